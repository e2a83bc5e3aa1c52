#include "providers/forgejo_provider.hpp"

#include <algorithm>
#include <map>
#include <string>

#include <doctest/doctest.h>

#include "crypto/digest.hpp"
#include "crypto/hex.hpp"
#include "provider_test_support.hpp"

using conduit::providers::Event;
using conduit::providers::SignatureStatus;
using conduit::testing::headers;
using conduit::testing::kRecordedSecret;
using conduit::testing::recordedRequest;

namespace {

const conduit::providers::Provider& forgejo() {
  return conduit::testing::provider("forgejo");
}

// The recorded request's headers without those whose name starts with `prefix`.
std::map<std::string, std::string> without(const std::map<std::string, std::string>& values,
                                           const std::string& prefix) {
  std::map<std::string, std::string> kept;
  for (const auto& [name, value] : values) {
    if (name.rfind(prefix, 0) != 0) kept.emplace(name, value);
  }
  return kept;
}

std::string hexHmac(std::string_view secret, std::string_view body) {
  return conduit::crypto::toHex(conduit::crypto::hmacSha256(secret, body));
}

}  // namespace

TEST_CASE("forgejo: the recorded push - every field from the file") {
  const auto request = recordedRequest("forgejo/push.docs");
  auto type = forgejo().eventType(request.lookup());
  REQUIRE(type == "push");
  const Event event = conduit::testing::normalized("forgejo", *type, request.body);
  CHECK(event.kind == "push");
  CHECK(event.host == "Forgejo");
  CHECK(event.repository == "forgejo/webhooks");
  CHECK(event.branch == "develop");
  REQUIRE(event.commits.size() == 1);
  CHECK(event.commits[0].id == "bffeb74224043ba2feb48d137756c8a9331c449a");
  CHECK(event.commits[0].message == "Webhooks Yay!");
  CHECK(event.commits[0].url ==
        "http://localhost:3000/forgejo/webhooks/commit/bffeb74224043ba2feb48d137756c8a9331c449a");
  CHECK(event.commits[0].author == "Forgejo");
  CHECK(event.url ==
        "http://localhost:3000/forgejo/webhooks/compare/"
        "28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9"
        "331c449a");
  CHECK(event.author == "forgejo");
}

TEST_CASE("forgejo: the recorded request authenticates with the test secret - not another") {
  const auto request = recordedRequest("forgejo/push.docs");
  CHECK(forgejo().authenticate(request.lookup(), request.body, kRecordedSecret) ==
        SignatureStatus::kValid);
  CHECK(forgejo().authenticate(request.lookup(), request.body, "another secret") ==
        SignatureStatus::kMismatch);
  CHECK(forgejo().deliveryId(request.lookup()) == "f6266f16-1bf3-46a5-9ea4-602e06ead473");
}

TEST_CASE("forgejo: each header falls back to Gitea's name - and Forgejo's alone is enough") {
  const auto request = recordedRequest("forgejo/push.docs");
  for (const char* dropped : {"X-Forgejo-", "X-Gitea-"}) {
    auto only = headers(without(request.header_values, dropped));
    CHECK_MESSAGE(forgejo().recognizes(only), dropped);
    CHECK_MESSAGE(
        forgejo().authenticate(only, request.body, kRecordedSecret) == SignatureStatus::kValid,
        dropped);
    CHECK_MESSAGE(forgejo().eventType(only) == "push", dropped);
    CHECK_MESSAGE(forgejo().deliveryId(only) == "f6266f16-1bf3-46a5-9ea4-602e06ead473", dropped);
  }
  auto neither = headers(without(without(request.header_values, "X-Forgejo-"), "X-Gitea-"));
  CHECK_FALSE(forgejo().recognizes(neither));
  CHECK(forgejo().authenticate(neither, request.body, kRecordedSecret) ==
        SignatureStatus::kMissing);
  CHECK_FALSE(forgejo().eventType(neither).has_value());
  CHECK_FALSE(forgejo().deliveryId(neither).has_value());
}

TEST_CASE("forgejo: Forgejo's own header wins over Gitea's when both are there") {
  const std::string body = "{}";
  const std::string good = hexHmac(kRecordedSecret, body);
  const std::string other = hexHmac("another secret", body);
  auto both = headers({{"X-Forgejo-Signature", other},
                       {"X-Gitea-Signature", good},
                       {"X-Forgejo-Event", "release"},
                       {"X-Gitea-Event", "push"},
                       {"X-Forgejo-Delivery", "forgejo-id"},
                       {"X-Gitea-Delivery", "gitea-id"}});
  CHECK(forgejo().authenticate(both, body, kRecordedSecret) == SignatureStatus::kMismatch);
  CHECK(forgejo().eventType(both) == "release");
  CHECK(forgejo().deliveryId(both) == "forgejo-id");
  // An empty Forgejo header counts as missing: Gitea's is read.
  auto empty_forgejo =
      headers({{"X-Forgejo-Signature", ""}, {"X-Gitea-Signature", good}, {"X-Forgejo-Event", ""}});
  CHECK(forgejo().authenticate(empty_forgejo, body, kRecordedSecret) == SignatureStatus::kValid);
  CHECK(forgejo().authenticate(headers({{"X-Forgejo-Signature", "sha256=" + good}}), body,
                               kRecordedSecret) == SignatureStatus::kMalformed);
}

TEST_CASE("forgejo: takes Gitea's deliveries - Gitea does not take Forgejo's") {
  const auto gitea_request = recordedRequest("gitea/pull_request_merged.go-scm");
  const auto forgejo_request = recordedRequest("forgejo/push.docs");
  const auto& gitea = conduit::testing::provider("gitea");
  const auto& github = conduit::testing::provider("github");
  CHECK(forgejo().recognizes(forgejo_request.lookup()));
  CHECK(forgejo().recognizes(gitea_request.lookup()));
  CHECK_FALSE(gitea.recognizes(forgejo_request.lookup()));
  CHECK_FALSE(github.recognizes(forgejo_request.lookup()));
  CHECK_FALSE(forgejo().recognizes(headers({{"X-GitHub-Event", "push"}})));
  CHECK(forgejo().authenticate(gitea_request.lookup(), gitea_request.body, kRecordedSecret) ==
        SignatureStatus::kValid);
  CHECK(conduit::providers::foreignSender(forgejo(), gitea_request.lookup()) == nullptr);
  CHECK(conduit::providers::foreignSender(github, forgejo_request.lookup()) == &forgejo());
}

TEST_CASE("forgejo: Gitea's payloads normalize as Gitea normalizes them - with Forgejo as host") {
  const auto request = recordedRequest("gitea/pull_request_merged.go-scm");
  Event as_forgejo = conduit::testing::normalized("forgejo", "pull_request", request.body);
  Event as_gitea = conduit::testing::normalized("gitea", "pull_request", request.body);
  CHECK(as_forgejo.host == "Forgejo");
  CHECK(as_forgejo.kind == "pull_request.merged");
  CHECK(as_forgejo.reference == as_gitea.reference);
  CHECK(as_forgejo.title == as_gitea.title);
  CHECK(as_forgejo.branch == as_gitea.branch);
  CHECK(as_forgejo.url == as_gitea.url);
  CHECK(as_forgejo.author == as_gitea.author);
}

TEST_CASE("forgejo: header names - repo paths - known events - no ping") {
  const auto& names = forgejo().headerNames();
  CHECK(names.credential == "X-Forgejo-Signature (or X-Gitea-Signature)");
  CHECK(names.event == "X-Forgejo-Event (or X-Gitea-Event)");
  CHECK(names.delivery == "X-Forgejo-Delivery (or X-Gitea-Delivery)");
  CHECK_FALSE(forgejo().repoPathProblem("forgejo/webhooks").has_value());
  CHECK(conduit::providers::repoPathProblem(forgejo(), "forgejo") ==
        "must be owner/repo, as in Forgejo's address of the repository");
  const auto& known = forgejo().knownEvents();
  for (const char* event : {"push", "pull_request", "release", "action_run_failure"}) {
    CHECK_MESSAGE(std::find(known.begin(), known.end(), event) != known.end(), event);
  }
  CHECK_FALSE(forgejo().isPing("push"));
  CHECK_FALSE(forgejo().acceptsFormBodies());
}
