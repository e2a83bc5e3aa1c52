#include "providers/registry.hpp"

#include <set>

#include <doctest/doctest.h>

#include "provider_test_support.hpp"
#include "providers/header_checks.hpp"
#include "providers/payload_json.hpp"

using conduit::providers::allProviders;
using conduit::providers::findProvider;
using conduit::providers::SignatureStatus;
using conduit::testing::headers;

TEST_CASE("registry: every provider is found by its name - names are unique and listed") {
  std::set<std::string_view> names;
  for (const auto* provider : allProviders()) {
    CHECK(findProvider(provider->name()) == provider);
    CHECK_FALSE(provider->title().empty());
    CHECK(names.insert(provider->name()).second);
    const auto& header_names = provider->headerNames();
    CHECK_FALSE(header_names.credential.empty());
    CHECK_FALSE(header_names.event.empty());
    CHECK_FALSE(header_names.delivery.empty());
  }
  CHECK(conduit::providers::providerNames().size() == allProviders().size());
  CHECK(findProvider("svn") == nullptr);
  CHECK(findProvider("GitHub") == nullptr);  // names are exact
}

TEST_CASE("registry: repo paths - the generic rules first - then the host's shape") {
  const auto& github = conduit::testing::provider("github");
  CHECK_FALSE(conduit::providers::repoPathProblem(github, "acme/payments").has_value());
  CHECK(conduit::providers::repoPathProblem(github, "") == "is required");
  CHECK(conduit::providers::repoPathProblem(github, "acme/pay ments")->find("no spaces") !=
        std::string::npos);
  CHECK(conduit::providers::repoPathProblem(github, std::string(300, 'a'))->find("256") !=
        std::string::npos);
  for (const char* bad : {"acme", "acme/", "/payments", "acme/payments/extra"}) {
    CHECK_MESSAGE(
        conduit::providers::repoPathProblem(github, bad)->find("owner/repo") != std::string::npos,
        bad);
  }
}

TEST_CASE("registry: a request no other host recognizes is nobody's foreign delivery") {
  const auto& github = conduit::testing::provider("github");
  CHECK(conduit::providers::foreignSender(github, headers({{"X-GitHub-Event", "push"}})) ==
        nullptr);
  CHECK(conduit::providers::foreignSender(github, headers({})) == nullptr);
}

TEST_CASE("registry: normalize() sets the host's title") {
  std::string error;
  auto event =
      conduit::providers::normalize(conduit::testing::provider("github"), "push", "{}", error);
  REQUIRE(event.has_value());
  CHECK(event->host == "GitHub");
}

TEST_CASE("header checks: hex HMAC-SHA256 with and without a prefix - a token") {
  // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
  const std::string hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  using conduit::providers::checkHexHmacSha256;
  CHECK(checkHexHmacSha256(hex, "", "what do ya want for nothing?", "Jefe") ==
        SignatureStatus::kValid);
  CHECK(checkHexHmacSha256("sha256=" + hex, "sha256=", "what do ya want for nothing?", "Jefe") ==
        SignatureStatus::kValid);
  CHECK(checkHexHmacSha256(hex, "sha256=", "what do ya want for nothing?", "Jefe") ==
        SignatureStatus::kMalformed);
  CHECK(checkHexHmacSha256(hex.substr(2), "", "what do ya want for nothing?", "Jefe") ==
        SignatureStatus::kMalformed);
  CHECK(checkHexHmacSha256(hex, "", "what do ya want for something?", "Jefe") ==
        SignatureStatus::kMismatch);
  CHECK(checkHexHmacSha256(std::nullopt, "", "x", "Jefe") == SignatureStatus::kMissing);
  CHECK(checkHexHmacSha256("", "", "x", "Jefe") == SignatureStatus::kMissing);

  using conduit::providers::checkToken;
  CHECK(checkToken("s3cret", "s3cret") == SignatureStatus::kValid);
  CHECK(checkToken("s3cre", "s3cret") == SignatureStatus::kMismatch);
  CHECK(checkToken(std::nullopt, "s3cret") == SignatureStatus::kMissing);
  CHECK(checkToken("", "s3cret") == SignatureStatus::kMissing);
}

TEST_CASE("header checks: the first non-empty of several header names") {
  auto h = headers({{"X-Gitea-Event", "push"}, {"X-Forgejo-Event", ""}});
  CHECK(conduit::providers::firstHeader(h, {"X-Forgejo-Event", "X-Gitea-Event"}) == "push");
  CHECK_FALSE(conduit::providers::firstHeader(h, {"X-Gogs-Event"}).has_value());
}

TEST_CASE("payload json: typed reads - integers as digits - anything else empty") {
  std::string error;
  auto json = conduit::providers::PayloadJson::parse(
      R"({"a":{"s":"text","n":12,"big":18446744073709551615,"f":1.5,"t":true,"z":null}})", error);
  REQUIRE(json.has_value());
  CHECK(json->text("/a/s") == "text");
  CHECK(json->text("/a/n") == "12");
  CHECK(json->text("/a/big") == "18446744073709551615");
  CHECK(json->text("/a/f").empty());  // not an integer
  CHECK(json->text("/a/z").empty());
  CHECK(json->text("/missing/deeper").empty());
  CHECK(json->flag("/a/t"));
  CHECK_FALSE(json->flag("/a/s"));
  CHECK(json->firstText({"/a/z", "/a/missing", "/a/s"}) == "text");
  // A short payload survives the move out of parse(): its strings live in the object.
  auto moved = std::move(*json);
  CHECK(moved.text("/a/s") == "text");
  CHECK_FALSE(conduit::providers::PayloadJson::parse("[1]", error).has_value());
  CHECK(error == "the payload is not a JSON object");
  CHECK(conduit::providers::stripPrefix("refs/heads/main", "refs/heads/") == "main");
  CHECK_FALSE(conduit::providers::stripPrefix("refs/tags/v1", "refs/heads/").has_value());
}
