#include "providers/github_provider.hpp"
#include "provider_test_support.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>

#include <doctest/doctest.h>

using conduit::providers::findProvider;
using conduit::providers::SignatureStatus;
using conduit::testing::headers;

namespace {

constexpr std::string_view kSecret = "It's a Secret to Everybody";
constexpr std::string_view kBody = "Hello, World!";
const std::string kSignature =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

}  // namespace

TEST_CASE("github: GitHub's published test vector verifies") {
  const auto* github = findProvider("github");
  REQUIRE(github != nullptr);
  CHECK(github->authenticate(headers({{"X-Hub-Signature-256", kSignature}}), kBody, kSecret) ==
        SignatureStatus::kValid);
  // Header names are case-insensitive on the wire; the upper-case hex form is fine too.
  std::string upper = kSignature;
  for (size_t i = 7; i < upper.size(); ++i)
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  CHECK(github->authenticate(headers({{"x-hub-signature-256", upper}}), kBody, kSecret) ==
        SignatureStatus::kValid);
}

TEST_CASE("github: a wrong secret or a changed body is a mismatch") {
  const auto* github = findProvider("github");
  auto h = headers({{"X-Hub-Signature-256", kSignature}});
  CHECK(github->authenticate(h, kBody, "another secret") == SignatureStatus::kMismatch);
  CHECK(github->authenticate(h, "Hello, World?", kSecret) == SignatureStatus::kMismatch);
}

TEST_CASE("github: a missing or malformed signature - and SHA-1 alone - are refused") {
  const auto* github = findProvider("github");
  CHECK(github->authenticate(headers({}), kBody, kSecret) == SignatureStatus::kMissing);
  CHECK(github->authenticate(headers({{"X-Hub-Signature", "sha1=0a0b"}}), kBody, kSecret) ==
        SignatureStatus::kMissing);
  CHECK(github->authenticate(headers({{"X-Hub-Signature-256", "sha1=abcd"}}), kBody, kSecret) ==
        SignatureStatus::kMalformed);
  CHECK(github->authenticate(headers({{"X-Hub-Signature-256", "sha256=xyz"}}), kBody, kSecret) ==
        SignatureStatus::kMalformed);
  CHECK(github->authenticate(headers({{"X-Hub-Signature-256", kSignature.substr(0, 40)}}), kBody,
                             kSecret) == SignatureStatus::kMalformed);
}

TEST_CASE("github: event type - delivery id and ping") {
  const auto* github = findProvider("github");
  auto h = headers({{"X-GitHub-Event", "pull_request"}, {"X-GitHub-Delivery", "72d3162e"}});
  CHECK(github->eventType(h) == "pull_request");
  CHECK(github->deliveryId(h) == "72d3162e");
  CHECK_FALSE(github->eventType(headers({{"X-GitHub-Event", ""}})).has_value());
  CHECK(github->isPing("ping"));
  CHECK_FALSE(github->isPing("push"));
}

TEST_CASE("providers: only known names are found") {
  CHECK(findProvider("github") != nullptr);
  CHECK(findProvider("gitlab-ce") == nullptr);
  CHECK(findProvider("GitHub") == nullptr);
}
