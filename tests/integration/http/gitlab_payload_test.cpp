#include <map>
#include <string>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "process.hpp"
#include "queue/delivery_queue.hpp"
#include "server_fixture.hpp"

using conduit::queue::QueueNames;
using conduit::testing::jsonString;
using conduit::testing::ServerFixture;

namespace {

// The secret the recorded requests' X-Gitlab-Token carries (their headers file says so).
const std::string kRecordedSecret = "71295b197fa25f4356d2fb9965df3f2379d903d7";
const std::string kIdempotencyKey = "f5e5f430-f57b-4e6e-9fac-d9128cd7232f";

// A real GitLab request from tests/data/payloads/gitlab/: its body's bytes and its headers.
struct Recorded {
  std::string body;
  httplib::Headers headers;
};

Recorded recorded(const std::string& name) {
  const std::string base = std::string(CONDUIT_TEST_DATA_DIR) + "/payloads/gitlab/" + name;
  Recorded request{conduit::testing::readFile(base + ".json"), {}};
  const std::string headers_json = conduit::testing::readFile(base + ".headers.json");
  rapidjson::Document document;
  document.Parse(headers_json.data(), headers_json.size());
  REQUIRE(document.IsObject());
  REQUIRE(document.HasMember("headers"));
  for (const auto& member : document["headers"].GetObject()) {
    // Content-Type is passed to Post() on its own.
    if (std::string(member.name.GetString()) == "Content-Type") continue;
    request.headers.emplace(member.name.GetString(), member.value.GetString());
  }
  return request;
}

httplib::Headers without(httplib::Headers headers, const std::string& name) {
  headers.erase(name);
  return headers;
}

httplib::Headers with(httplib::Headers headers, const std::string& name, const std::string& value) {
  headers.erase(name);
  headers.emplace(name, value);
  return headers;
}

// Imports gitlab/<repo_id> with the recorded requests' secret; returns the answer's uri.
std::string importHook(const ServerFixture& server, const std::string& repo_id) {
  auto response = server.client().Patch(
      "/conduit/internal/webhooks/import",
      R"({"provider":"gitlab","repo_path":"gitlab-org/hello-world","repo_id":")" + repo_id +
          R"(","secret":")" + kRecordedSecret + "\"}",
      "application/json");
  REQUIRE(response);
  REQUIRE(response->status == 201);
  return jsonString(response->body, "/data/uri");
}

httplib::Result post(const ServerFixture& server, const std::string& path, const Recorded& request,
                     const httplib::Headers& headers,
                     const char* content_type = "application/json") {
  return server.client().Post(path, headers, request.body, content_type);
}

long long queueLength(const ServerFixture& server) {
  return server.redisClient()->command({"XLEN", QueueNames::kStream}).integer;
}

}  // namespace

TEST_CASE("gitlab payload: register answers the GitLab route - a bad repo_path names the shape") {
  ServerFixture server;
  auto client = server.client();
  auto registered = client.Post(
      "/conduit/webhooks/register",
      R"({"provider":"gitlab","repo_path":"acme/platform/payments","repo_id":"payments"})",
      "application/json");
  REQUIRE(registered);
  CHECK(registered->status == 201);
  CHECK(jsonString(registered->body, "/data/uri") == "/conduit/webhooks/gitlab/payments/payload");
  CHECK(jsonString(registered->body, "/data/secret").size() == 64);

  auto listed = client.Get("/conduit/webhooks/list?provider=gitlab");
  REQUIRE(listed);
  CHECK(listed->body.find(R"("repo_path":"acme/platform/payments")") != std::string::npos);

  auto bad = client.Post("/conduit/webhooks/register",
                         R"({"provider":"gitlab","repo_path":"payments","repo_id":"p2"})",
                         "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->body.find(R"("field":"repo_path")") != std::string::npos);
  CHECK(bad->body.find("repo_path must be group/project or group/subgroup/project, as in "
                       "GitLab's address of the project") != std::string::npos);
}

TEST_CASE("gitlab payload: the recorded merged merge request is queued - again is a duplicate") {
  ServerFixture server;
  const std::string uri = importHook(server, "hello");
  CHECK(uri == "/conduit/webhooks/gitlab/hello/payload");
  const Recorded request = recorded("merge_request_merge.captured");

  auto response = post(server, uri, request, request.headers);
  REQUIRE(response);
  CHECK(response->status == 202);
  CHECK(jsonString(response->body, "/data/delivery") == kIdempotencyKey);
  CHECK(response->body.find(R"("duplicate":false)") != std::string::npos);

  auto entries = server.redisClient()->command({"XRANGE", QueueNames::kStream, "-", "+"});
  REQUIRE(entries.elements.size() == 1);
  auto fields = conduit::testing::streamEntryFields(entries.elements[0]);
  CHECK(fields["provider"] == "gitlab");
  CHECK(fields["repo_id"] == "hello");
  CHECK(fields["repo_path"] == "gitlab-org/hello-world");
  CHECK(fields["event"] == "Merge Request Hook");
  CHECK(fields["delivery"] == kIdempotencyKey);
  CHECK(fields["payload"] == request.body);

  // GitLab 17.4+ retries with the same Idempotency-Key, under a new X-Gitlab-Webhook-UUID.
  auto again =
      post(server, uri, request,
           with(request.headers, "X-Gitlab-Webhook-UUID", "9b1d4f5e-0000-4000-8000-000000000001"));
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(again->body.find(R"("duplicate":true)") != std::string::npos);
  CHECK(queueLength(server) == 1);

  // Older GitLab sends no Idempotency-Key: its X-Gitlab-Webhook-UUID is the delivery id.
  auto older = post(server, uri, request, without(request.headers, "Idempotency-Key"));
  REQUIRE(older);
  CHECK(older->status == 202);
  CHECK(jsonString(older->body, "/data/delivery") == "02affd2d-2cba-4033-917d-ec22d5dc4b38");
  CHECK(queueLength(server) == 2);
}

TEST_CASE("gitlab payload: refusals name GitLab's headers") {
  ServerFixture server;
  const std::string uri = importHook(server, "hello");
  const Recorded request = recorded("merge_request_merge.captured");

  auto wrong = post(server, uri, request, with(request.headers, "X-Gitlab-Token", "not-it"));
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(wrong->body.find("signature_mismatch") != std::string::npos);
  CHECK(wrong->body.find(R"("detail":"X-Gitlab-Token does not match the hook's secret")") !=
        std::string::npos);

  auto no_token = post(server, uri, request, without(request.headers, "X-Gitlab-Token"));
  REQUIRE(no_token);
  CHECK(no_token->status == 401);
  CHECK(no_token->body.find(R"("detail":"X-Gitlab-Token is required")") != std::string::npos);

  auto no_event = post(server, uri, request, without(request.headers, "X-Gitlab-Event"));
  REQUIRE(no_event);
  CHECK(no_event->status == 400);
  CHECK(no_event->body.find("missing_event_header") != std::string::npos);
  CHECK(no_event->body.find(R"("detail":"X-Gitlab-Event is required")") != std::string::npos);

  auto no_delivery =
      post(server, uri, request,
           without(without(request.headers, "Idempotency-Key"), "X-Gitlab-Webhook-UUID"));
  REQUIRE(no_delivery);
  CHECK(no_delivery->status == 400);
  CHECK(no_delivery->body.find("missing_delivery_header") != std::string::npos);
  CHECK(no_delivery->body.find(
            R"("detail":"Idempotency-Key or X-Gitlab-Webhook-UUID is required")") !=
        std::string::npos);

  // GitLab sends JSON only: a form body is refused, with where to fix it.
  auto form = post(server, uri, request, request.headers, "application/x-www-form-urlencoded");
  REQUIRE(form);
  CHECK(form->status == 415);
  CHECK(form->body.find("choose it in GitLab's webhook settings") != std::string::npos);

  CHECK(queueLength(server) == 0);
}

TEST_CASE("gitlab payload: a GitLab delivery sent to a GitHub hook is wrong_provider") {
  ServerFixture server;
  // A GitHub hook whose secret happens to be the GitLab token: still not GitLab's hook.
  auto imported = server.client().Patch(
      "/conduit/internal/webhooks/import",
      R"({"provider":"github","repo_path":"org/repo","repo_id":"gh","secret":")" + kRecordedSecret +
          "\"}",
      "application/json");
  REQUIRE(imported);
  REQUIRE(imported->status == 201);
  const Recorded request = recorded("merge_request_merge.captured");
  auto response = post(server, "/conduit/webhooks/github/gh/payload", request, request.headers);
  REQUIRE(response);
  CHECK(response->status == 400);
  CHECK(response->body.find("wrong_provider") != std::string::npos);
  CHECK(response->body.find("this delivery comes from GitLab, but the hook at this address is "
                            "for GitHub: register a gitlab hook for it") != std::string::npos);
  CHECK(queueLength(server) == 0);
}

TEST_CASE("gitlab payload: the original's /webhooks/gitlab/... form - every recorded event") {
  ServerFixture server;
  importHook(server, "hello");
  int n = 0;
  for (const char* name : {"merge_request_merge.captured", "merge_request_open.docs", "push.docs",
                           "release_create.docs", "tag_push.docs"}) {
    const Recorded request = recorded(name);
    // Each recorded file carries the same example key: one per delivery here.
    auto response = post(server, "/webhooks/gitlab/hello/payload", request,
                         with(request.headers, "Idempotency-Key", "key-" + std::to_string(++n)));
    REQUIRE(response);
    CHECK_MESSAGE(response->status == 202, name);
  }
  CHECK(queueLength(server) == 5);
}

TEST_CASE("gitlab payload: metrics name GitLab's events - a made-up one is `other`") {
  ServerFixture server;
  const std::string uri = importHook(server, "hello");
  const Recorded request = recorded("merge_request_merge.captured");
  CHECK(post(server, uri, request, request.headers)->status == 202);
  CHECK(post(server, uri, request, request.headers)->status == 200);
  CHECK(post(server, uri, request,
             with(with(request.headers, "X-Gitlab-Event", "Made Up Hook"), "Idempotency-Key",
                  "made-up-1"))
            ->status == 202);

  auto scraped = server.client().Get("/metrics");
  REQUIRE(scraped);
  REQUIRE(scraped->status == 200);
  const std::string prefix = "conduit_deliveries_received_total{provider=\"gitlab\",event=";
  CHECK(scraped->body.find(prefix + "\"Merge Request Hook\",outcome=\"queued\"} 1\n") !=
        std::string::npos);
  CHECK(scraped->body.find(prefix + "\"Merge Request Hook\",outcome=\"duplicate\"} 1\n") !=
        std::string::npos);
  CHECK(scraped->body.find(prefix + "\"other\",outcome=\"queued\"} 1\n") != std::string::npos);
  CHECK(scraped->body.find("Made Up") == std::string::npos);
}
