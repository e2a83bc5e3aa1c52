// Gitea's and Forgejo's real recorded requests (tests/data/payloads/), with the headers those
// hosts send, through a real server and a real redis-server.

#include <cctype>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "crypto/digest.hpp"
#include "crypto/hex.hpp"
#include "process.hpp"
#include "providers/registry.hpp"
#include "queue/delivery_queue.hpp"
#include "server_fixture.hpp"

using conduit::queue::QueueNames;
using conduit::testing::jsonString;
using conduit::testing::ServerFixture;

namespace {

// The secret the recorded requests were signed with (tests/data/payloads/README.md).
const std::string kRecordedSecret = "71295b197fa25f4356d2fb9965df3f2379d903d7";

struct Recorded {
  std::string body;
  std::map<std::string, std::string> headers;

  Recorded without(std::initializer_list<std::string> names) const {
    Recorded copy = *this;
    for (const auto& name : names)
      copy.headers.erase(name);
    return copy;
  }
  Recorded with(const std::string& name, const std::string& value) const {
    Recorded copy = *this;
    copy.headers[name] = value;
    return copy;
  }
};

Recorded recorded(const std::string& host_and_name) {
  const std::string base = std::string(CONDUIT_TEST_DATA_DIR) + "/payloads/" + host_and_name;
  Recorded request{conduit::testing::readFile(base + ".json"), {}};
  const std::string text = conduit::testing::readFile(base + ".headers.json");
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  REQUIRE(document.IsObject());
  for (const auto& member : document["headers"].GetObject())
    request.headers[member.name.GetString()] = member.value.GetString();
  return request;
}

// Makes the hook provider/repo_id with the recorded requests' secret (or another).
void importHook(const ServerFixture& server, const std::string& provider,
                const std::string& repo_id, const std::string& secret = kRecordedSecret) {
  auto response = server.client().Patch("/conduit/internal/webhooks/import",
                                        R"({"provider":")" + provider + R"(","repo_id":")" +
                                            repo_id + R"(","repo_path":"acme/payments",)" +
                                            R"("secret":")" + secret + "\"}",
                                        "application/json");
  REQUIRE(response);
  REQUIRE(response->status == 201);
}

// POSTs the request as the host sent it: its body and every one of its headers.
httplib::Result send(const ServerFixture& server, const std::string& provider,
                     const std::string& repo_id, const Recorded& request) {
  httplib::Headers headers;
  std::string content_type = "application/json";
  for (const auto& [name, value] : request.headers) {
    if (name == "Content-Type") {
      content_type = value;
    } else {
      headers.emplace(name, value);
    }
  }
  return server.client().Post("/conduit/webhooks/" + provider + "/" + repo_id + "/payload", headers,
                              request.body, content_type.c_str());
}

std::string errorCode(const httplib::Result& response) {
  return jsonString(response->body, "/error_msg");
}

std::string detail(const httplib::Result& response) {
  return jsonString(response->body, "/detail");
}

std::vector<std::map<std::string, std::string>> queued(const ServerFixture& server) {
  std::vector<std::map<std::string, std::string>> entries;
  auto range = server.redisClient()->command({"XRANGE", QueueNames::kStream, "-", "+"});
  for (const auto& entry : range.elements)
    entries.push_back(conduit::testing::streamEntryFields(entry));
  return entries;
}

// `text` as a form field value (application/x-www-form-urlencoded).
std::string formEncoded(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

}  // namespace

TEST_CASE("gitea payload: each recorded request is queued for gitea - again is a duplicate") {
  ServerFixture server;
  int n = 0;
  for (const char* name : {"gitea/pull_request_merged.go-scm", "gitea/pull_request_edited.signed",
                           "gitea/push.go-scm"}) {
    CAPTURE(name);
    // The three recordings share one delivery id: a hook each.
    const std::string repo_id = "repo" + std::to_string(++n);
    importHook(server, "gitea", repo_id);
    const Recorded request = recorded(name);
    auto response = send(server, "gitea", repo_id, request);
    REQUIRE(response);
    CHECK(response->status == 202);
    CHECK(jsonString(response->body, "/data/delivery") == request.headers.at("X-Gitea-Delivery"));

    auto again = send(server, "gitea", repo_id, request);
    REQUIRE(again);
    CHECK(again->status == 200);
    CHECK(again->body.find(R"("duplicate":true)") != std::string::npos);
  }
  const auto entries = queued(server);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].at("provider") == "gitea");
  CHECK(entries[0].at("repo_id") == "repo1");
  CHECK(entries[0].at("repo_path") == "acme/payments");
  CHECK(entries[0].at("event") == "pull_request");
  CHECK(entries[0].at("delivery") == "ee8d97b4-1479-43f1-9cac-fbbd1b80da55");
  CHECK(entries[0].at("payload") == recorded("gitea/pull_request_merged.go-scm").body);
  CHECK(entries[2].at("provider") == "gitea");
  CHECK(entries[2].at("event") == "push");
}

TEST_CASE("gitea payload: the recorded Forgejo push is queued for forgejo - again a duplicate") {
  ServerFixture server;
  importHook(server, "forgejo", "repo");
  const Recorded request = recorded("forgejo/push.docs");
  auto response = send(server, "forgejo", "repo", request);
  REQUIRE(response);
  CHECK(response->status == 202);
  auto again = send(server, "forgejo", "repo", request);
  CHECK(again->status == 200);
  CHECK(again->body.find(R"("duplicate":true)") != std::string::npos);
  // Also at the original's /webhooks/... address.
  auto other_id = request.with("X-Forgejo-Delivery", "another-id");
  auto old_route =
      server.client().Post("/webhooks/forgejo/repo/payload",
                           httplib::Headers(other_id.headers.begin(), other_id.headers.end()),
                           other_id.body, "application/json");
  CHECK(old_route->status == 202);

  const auto entries = queued(server);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].at("provider") == "forgejo");
  CHECK(entries[0].at("event") == "push");
  CHECK(entries[0].at("delivery") == "f6266f16-1bf3-46a5-9ea4-602e06ead473");
  CHECK(entries[0].at("payload") == request.body);
  CHECK(entries[1].at("delivery") == "another-id");
}

TEST_CASE("gitea payload: wrong - missing or malformed signatures are 401 naming Gitea's header") {
  ServerFixture server;
  importHook(server, "gitea", "repo");
  importHook(server, "gitea", "other-secret", "not the recorded secret");
  const Recorded request = recorded("gitea/push.go-scm");

  auto wrong = send(server, "gitea", "other-secret", request);
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(errorCode(wrong) == "signature_mismatch");

  // GitHub's and Gogs' copies of the signature do not stand in for Gitea's own.
  auto missing = send(server, "gitea", "repo", request.without({"X-Gitea-Signature"}));
  REQUIRE(missing);
  CHECK(missing->status == 401);
  CHECK(errorCode(missing) == "signature_missing");
  CHECK(detail(missing) == "X-Gitea-Signature is required");

  auto prefixed =
      send(server, "gitea", "repo",
           request.with("X-Gitea-Signature", request.headers.at("X-Hub-Signature-256")));
  REQUIRE(prefixed);
  CHECK(prefixed->status == 401);
  CHECK(errorCode(prefixed) == "signature_malformed");
  CHECK(detail(prefixed).rfind("X-Gitea-Signature must be 64 hex characters", 0) == 0);
  CHECK(queued(server).empty());
}

TEST_CASE("gitea payload: a missing event or delivery header is 400 naming Gitea's header") {
  ServerFixture server;
  importHook(server, "gitea", "repo");
  const Recorded request = recorded("gitea/push.go-scm");

  // Without any event header (with GitHub's copy left, the delivery would read as GitHub's).
  auto no_event =
      send(server, "gitea", "repo",
           request.without({"X-Gitea-Event", "X-Gitea-Event-Type", "X-Gogs-Event",
                            "X-Gogs-Event-Type", "X-GitHub-Event", "X-GitHub-Event-Type"}));
  REQUIRE(no_event);
  CHECK(no_event->status == 400);
  CHECK(errorCode(no_event) == "missing_event_header");
  CHECK(detail(no_event) == "X-Gitea-Event is required");

  // GitHub's and Gogs' copies of the delivery id are not read.
  auto no_delivery = send(server, "gitea", "repo", request.without({"X-Gitea-Delivery"}));
  REQUIRE(no_delivery);
  CHECK(no_delivery->status == 400);
  CHECK(errorCode(no_delivery) == "missing_delivery_header");
  CHECK(detail(no_delivery) == "X-Gitea-Delivery is required");
  CHECK(queued(server).empty());
}

TEST_CASE("gitea payload: Forgejo's refusals name both its header and Gitea's") {
  ServerFixture server;
  importHook(server, "forgejo", "repo");
  const Recorded request = recorded("forgejo/push.docs");

  auto missing = send(server, "forgejo", "repo",
                      request.without({"X-Forgejo-Signature", "X-Gitea-Signature"}));
  CHECK(missing->status == 401);
  CHECK(detail(missing) == "X-Forgejo-Signature (or X-Gitea-Signature) is required");

  auto no_delivery =
      send(server, "forgejo", "repo", request.without({"X-Forgejo-Delivery", "X-Gitea-Delivery"}));
  CHECK(no_delivery->status == 400);
  CHECK(detail(no_delivery) == "X-Forgejo-Delivery (or X-Gitea-Delivery) is required");

  auto no_event = send(server, "forgejo", "repo",
                       request.without({"X-Forgejo-Event", "X-Forgejo-Event-Type", "X-Gitea-Event",
                                        "X-Gitea-Event-Type", "X-Gogs-Event", "X-Gogs-Event-Type",
                                        "X-GitHub-Event", "X-GitHub-Event-Type"}));
  CHECK(no_event->status == 400);
  CHECK(detail(no_event) == "X-Forgejo-Event (or X-Gitea-Event) is required");

  // Forgejo's headers alone are enough.
  auto own_only = send(server, "forgejo", "repo",
                       request.without({"X-Gitea-Signature", "X-Gitea-Event", "X-Gitea-Delivery",
                                        "X-Gitea-Event-Type"}));
  CHECK(own_only->status == 202);
}

TEST_CASE("gitea payload: a form body is 415 - telling to choose application/json") {
  ServerFixture server;
  importHook(server, "gitea", "repo");
  const Recorded request = recorded("gitea/push.go-scm");
  // As Gitea sends a hook set to application/x-www-form-urlencoded: the JSON in `payload`,
  // signed as JSON.
  Recorded form = request.with("Content-Type", "application/x-www-form-urlencoded");
  form.body = "payload=" + formEncoded(request.body);
  auto response = send(server, "gitea", "repo", form);
  REQUIRE(response);
  CHECK(response->status == 415);
  CHECK(errorCode(response) == "unsupported_content_type");
  CHECK(detail(response).find("application/json") != std::string::npos);
  CHECK(detail(response).find("Gitea") != std::string::npos);

  // The same form body signed over itself is refused the same way.
  form.headers["X-Gitea-Signature"] =
      conduit::crypto::toHex(conduit::crypto::hmacSha256(kRecordedSecret, form.body));
  CHECK(send(server, "gitea", "repo", form)->status == 415);
  CHECK(queued(server).empty());
}

TEST_CASE("gitea payload: a Gitea delivery to a GitHub hook is 400 wrong_provider") {
  ServerFixture server;
  importHook(server, "github", "repo");
  const Recorded request = recorded("gitea/pull_request_merged.go-scm");
  // It carries GitHub's headers too, with a signature GitHub's check accepts.
  const auto* github = conduit::providers::findProvider("github");
  auto lookup = [&](std::string_view name) -> std::optional<std::string_view> {
    auto found = request.headers.find(std::string(name));
    if (found == request.headers.end()) return std::nullopt;
    return std::string_view(found->second);
  };
  REQUIRE(github->authenticate(lookup, request.body, kRecordedSecret) ==
          conduit::providers::SignatureStatus::kValid);
  REQUIRE(github->eventType(lookup) == "pull_request");

  auto response = send(server, "github", "repo", request);
  REQUIRE(response);
  CHECK(response->status == 400);
  CHECK(errorCode(response) == "wrong_provider");
  CHECK(detail(response).find("comes from Gitea") != std::string::npos);
  CHECK(queued(server).empty());
}

TEST_CASE("gitea payload: Gogs' headers beside GitHub's - no host the registry knows - refused") {
  ServerFixture server;
  importHook(server, "github", "repo");
  // What Gogs (or a Gitea without its own headers) would send: GitHub's copies and X-Gogs-*.
  Recorded request = recorded("gitea/pull_request_merged.go-scm");
  for (const char* name :
       {"X-Gitea-Delivery", "X-Gitea-Event", "X-Gitea-Event-Type", "X-Gitea-Signature"}) {
    request.headers.erase(name);
  }
  auto response = send(server, "github", "repo", request);
  REQUIRE(response);
  CHECK(response->status == 400);
  CHECK(errorCode(response) == "wrong_provider");
  CHECK(detail(response).find("another code host's headers beside X-GitHub-Event") !=
        std::string::npos);
  CHECK(queued(server).empty());
}

TEST_CASE("gitea payload: a Forgejo delivery to a Gitea hook is refused - the reverse accepted") {
  ServerFixture server;
  importHook(server, "gitea", "repo");
  importHook(server, "forgejo", "repo");

  auto forgejo_to_gitea = send(server, "gitea", "repo", recorded("forgejo/push.docs"));
  REQUIRE(forgejo_to_gitea);
  CHECK(forgejo_to_gitea->status == 400);
  CHECK(errorCode(forgejo_to_gitea) == "wrong_provider");
  CHECK(detail(forgejo_to_gitea).find("comes from Forgejo") != std::string::npos);
  CHECK(queued(server).empty());

  // Older Forgejo sends Gitea's headers only: a Forgejo hook takes them.
  auto gitea_to_forgejo = send(server, "forgejo", "repo", recorded("gitea/push.go-scm"));
  REQUIRE(gitea_to_forgejo);
  CHECK(gitea_to_forgejo->status == 202);
  const auto entries = queued(server);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].at("provider") == "forgejo");
  CHECK(entries[0].at("event") == "push");
  CHECK(entries[0].at("delivery") == "ee8d97b4-1479-43f1-9cac-fbbd1b80da55");
}
