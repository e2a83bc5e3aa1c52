// Bitbucket Cloud's and Bitbucket Data Center's recorded requests, with their real headers,
// through a real server and a real redis-server.
#include <map>
#include <string>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "process.hpp"
#include "queue/delivery_queue.hpp"
#include "server_fixture.hpp"

using conduit::queue::QueueNames;
using conduit::testing::githubSignature;
using conduit::testing::jsonString;
using conduit::testing::ServerFixture;

namespace {

// The secret the recorded requests were signed with (tests/data/payloads/README.md).
const std::string kRecordedSecret = "71295b197fa25f4356d2fb9965df3f2379d903d7";

struct Recorded {
  std::string body;
  std::map<std::string, std::string> headers;
};

// tests/data/payloads/<name>.json and the headers in <name>.headers.json, signed with the
// recorded secret where the file carries no signature.
Recorded recorded(const std::string& name) {
  const std::string base = std::string(CONDUIT_TEST_DATA_DIR) + "/payloads/" + name;
  Recorded request{conduit::testing::readFile(base + ".json"), {}};
  rapidjson::Document document;
  document.Parse(conduit::testing::readFile(base + ".headers.json").c_str());
  REQUIRE(document.IsObject());
  for (const auto& member : document["headers"].GetObject()) {
    request.headers[member.name.GetString()] = member.value.GetString();
  }
  if (request.headers.count("X-Hub-Signature") == 0) {
    request.headers["X-Hub-Signature"] = githubSignature(kRecordedSecret, request.body);
  }
  return request;
}

void importHook(const ServerFixture& server, const std::string& provider,
                const std::string& repo_id, const std::string& repo_path) {
  auto response = server.client().Patch("/conduit/internal/webhooks/import",
                                        R"({"provider":")" + provider + R"(","repo_id":")" +
                                            repo_id + R"(","repo_path":")" + repo_path +
                                            R"(","secret":")" + kRecordedSecret + "\"}",
                                        "application/json");
  REQUIRE(response);
  REQUIRE(response->status == 201);
  CHECK(jsonString(response->body, "/data/uri") ==
        "/conduit/webhooks/" + provider + "/" + repo_id + "/payload");
}

// POSTs `request` to provider/repo_id's payload route with its headers, but those in `drop`
// left out and those in `change` replaced.
httplib::Result send(const ServerFixture& server, const std::string& provider,
                     const std::string& repo_id, const Recorded& request,
                     const std::map<std::string, std::string>& change = {},
                     std::initializer_list<std::string> drop = {}) {
  std::map<std::string, std::string> values = request.headers;
  for (const auto& [name, value] : change)
    values[name] = value;
  for (const auto& name : drop)
    values.erase(name);
  httplib::Headers headers;
  std::string content_type = "application/json";
  for (const auto& [name, value] : values) {
    if (name == "Content-Type") {
      content_type = value;
    } else {
      headers.emplace(name, value);
    }
  }
  return server.client().Post("/conduit/webhooks/" + provider + "/" + repo_id + "/payload", headers,
                              request.body, content_type.c_str());
}

long long queueLength(const ServerFixture& server) {
  return server.redisClient()->command({"XLEN", QueueNames::kStream}).integer;
}

std::map<std::string, std::string> onlyEntry(const ServerFixture& server) {
  auto entries = server.redisClient()->command({"XRANGE", QueueNames::kStream, "-", "+"});
  REQUIRE(entries.elements.size() == 1);
  return conduit::testing::streamEntryFields(entries.elements[0]);
}

}  // namespace

TEST_CASE("bitbucket payload: Cloud's recorded merge and push are queued as Bitbucket Cloud's") {
  ServerFixture server;
  importHook(server, "bitbucket", "foo", "brydzewski/foo");
  const auto merge = recorded("bitbucket-cloud/pullrequest_fulfilled.go-scm");
  auto response = send(server, "bitbucket", "foo", merge);
  REQUIRE(response);
  CHECK(response->status == 202);
  CHECK(jsonString(response->body, "/data/delivery") == "11111111-1111-1111-1111-111111111111");
  auto fields = onlyEntry(server);
  CHECK(fields["provider"] == "bitbucket");
  CHECK(fields["repo_id"] == "foo");
  CHECK(fields["repo_path"] == "brydzewski/foo");
  CHECK(fields["event"] == "pullrequest:fulfilled");
  CHECK(fields["delivery"] == "11111111-1111-1111-1111-111111111111");
  CHECK(fields["payload"] == merge.body);

  // The push (the recorded files share one X-Request-UUID: give it its own).
  auto push = send(server, "bitbucket", "foo", recorded("bitbucket-cloud/repo_push.go-scm"),
                   {{"X-Request-UUID", "33333333-3333-3333-3333-333333333333"}});
  CHECK(push->status == 202);
  CHECK(queueLength(server) == 2);
}

TEST_CASE("bitbucket payload: Data Center's recorded merge and push are queued as its own") {
  ServerFixture server;
  importHook(server, "bitbucket-server", "my-repo", "PRJ/my-repo");
  const auto merge = recorded("bitbucket-dc/pr_merged");
  auto response = send(server, "bitbucket-server", "my-repo", merge);
  REQUIRE(response);
  CHECK(response->status == 202);
  auto fields = onlyEntry(server);
  CHECK(fields["provider"] == "bitbucket-server");
  CHECK(fields["repo_path"] == "PRJ/my-repo");
  CHECK(fields["event"] == "pr:merged");
  CHECK(fields["delivery"] == "22222222-2222-2222-2222-222222222222");
  CHECK(fields["payload"] == merge.body);

  auto push =
      send(server, "bitbucket-server", "my-repo", recorded("bitbucket-dc/repo_refs_changed.signed"),
           {{"X-Request-Id", "44444444-4444-4444-4444-444444444444"}});
  CHECK(push->status == 202);
  CHECK(queueLength(server) == 2);
}

TEST_CASE("bitbucket payload: a redelivery of the same request id is 200 duplicate") {
  ServerFixture server;
  importHook(server, "bitbucket", "foo", "brydzewski/foo");
  importHook(server, "bitbucket-server", "my-repo", "PRJ/my-repo");
  const auto cloud = recorded("bitbucket-cloud/pullrequest_fulfilled.go-scm");
  CHECK(send(server, "bitbucket", "foo", cloud)->status == 202);
  // Bitbucket Cloud's own retry: the same X-Request-UUID, the next X-Attempt-Number.
  auto again = send(server, "bitbucket", "foo", cloud, {{"X-Attempt-Number", "2"}});
  CHECK(again->status == 200);
  CHECK(again->body.find(R"("duplicate":true)") != std::string::npos);

  const auto dc = recorded("bitbucket-dc/pr_merged");
  CHECK(send(server, "bitbucket-server", "my-repo", dc)->status == 202);
  auto dc_again = send(server, "bitbucket-server", "my-repo", dc);
  CHECK(dc_again->status == 200);
  CHECK(dc_again->body.find(R"("duplicate":true)") != std::string::npos);
  CHECK(queueLength(server) == 2);
}

TEST_CASE(
    "bitbucket payload: a wrong - missing - or SHA-1 signature is 401 naming X-Hub-Signature") {
  ServerFixture server;
  importHook(server, "bitbucket", "foo", "brydzewski/foo");
  importHook(server, "bitbucket-server", "my-repo", "PRJ/my-repo");
  const auto cloud = recorded("bitbucket-cloud/pullrequest_fulfilled.go-scm");
  const auto dc = recorded("bitbucket-dc/pr_merged");

  auto wrong = send(server, "bitbucket", "foo", cloud,
                    {{"X-Hub-Signature", githubSignature("another secret", cloud.body)}});
  CHECK(wrong->status == 401);
  CHECK(wrong->body.find("signature_mismatch") != std::string::npos);
  auto dc_wrong = send(server, "bitbucket-server", "my-repo", dc,
                       {{"X-Hub-Signature", githubSignature("another secret", dc.body)}});
  CHECK(dc_wrong->status == 401);
  CHECK(dc_wrong->body.find("signature_mismatch") != std::string::npos);

  for (const auto& [provider, repo_id, request] :
       {std::tuple{"bitbucket", "foo", cloud}, std::tuple{"bitbucket-server", "my-repo", dc}}) {
    auto missing = send(server, provider, repo_id, request, {}, {"X-Hub-Signature"});
    CHECK(missing->status == 401);
    CHECK(missing->body.find("signature_missing") != std::string::npos);
    CHECK(missing->body.find("X-Hub-Signature is required") != std::string::npos);
    auto sha1 = send(server, provider, repo_id, request,
                     {{"X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567"}});
    CHECK(sha1->status == 401);
    CHECK(sha1->body.find("signature_malformed") != std::string::npos);
    CHECK(sha1->body.find("X-Hub-Signature must be sha256=") != std::string::npos);
  }
  CHECK(queueLength(server) == 0);
}

TEST_CASE("bitbucket payload: no X-Event-Key or no delivery id is 400 naming the header") {
  ServerFixture server;
  importHook(server, "bitbucket", "foo", "brydzewski/foo");
  importHook(server, "bitbucket-server", "my-repo", "PRJ/my-repo");
  const auto cloud = recorded("bitbucket-cloud/pullrequest_fulfilled.go-scm");
  const auto dc = recorded("bitbucket-dc/pr_merged");

  auto no_event = send(server, "bitbucket", "foo", cloud, {}, {"X-Event-Key"});
  CHECK(no_event->status == 400);
  CHECK(no_event->body.find("missing_event_header") != std::string::npos);
  CHECK(no_event->body.find("X-Event-Key is required") != std::string::npos);
  auto no_uuid = send(server, "bitbucket", "foo", cloud, {}, {"X-Request-UUID"});
  CHECK(no_uuid->status == 400);
  CHECK(no_uuid->body.find("missing_delivery_header") != std::string::npos);
  CHECK(no_uuid->body.find("X-Request-UUID is required") != std::string::npos);

  auto dc_no_event = send(server, "bitbucket-server", "my-repo", dc, {}, {"X-Event-Key"});
  CHECK(dc_no_event->status == 400);
  CHECK(dc_no_event->body.find("X-Event-Key is required") != std::string::npos);
  auto dc_no_id = send(server, "bitbucket-server", "my-repo", dc, {}, {"X-Request-Id"});
  CHECK(dc_no_id->status == 400);
  CHECK(dc_no_id->body.find("missing_delivery_header") != std::string::npos);
  CHECK(dc_no_id->body.find("X-Request-Id is required") != std::string::npos);

  // JSON only: a form body is 415, saying where to choose JSON.
  auto form = send(server, "bitbucket", "foo", cloud,
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(form->status == 415);
  CHECK(form->body.find("Bitbucket Cloud's webhook settings") != std::string::npos);
  CHECK(queueLength(server) == 0);
}

TEST_CASE("bitbucket payload: Data Center's diagnostics:ping is 200 and queues nothing") {
  ServerFixture server;
  importHook(server, "bitbucket-server", "my-repo", "PRJ/my-repo");
  Recorded ping{R"({"test": true})",
                {{"Content-Type", "application/json; charset=utf-8"},
                 {"X-Event-Key", "diagnostics:ping"},
                 {"X-Request-Id", "55555555-5555-5555-5555-555555555555"}}};
  ping.headers["X-Hub-Signature"] = githubSignature(kRecordedSecret, ping.body);
  auto response = send(server, "bitbucket-server", "my-repo", ping);
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body.find(R"("queued":false)") != std::string::npos);
  CHECK(queueLength(server) == 0);
  // The signature is checked before the ping is answered (as for every host): a test sent
  // without one is refused like any unsigned request.
  auto unsigned_ping = send(server, "bitbucket-server", "my-repo", ping, {}, {"X-Hub-Signature"});
  CHECK(unsigned_ping->status == 401);
  // Cloud has no ping: the same key to a Cloud hook is an event like any other.
  importHook(server, "bitbucket", "foo", "brydzewski/foo");
  auto cloud_ping = send(server, "bitbucket", "foo", ping,
                         {{"X-Request-UUID", "66666666-6666-6666-6666-666666666666"}});
  CHECK(cloud_ping->status == 202);
}

TEST_CASE(
    "bitbucket payload: a delivery of the other Bitbucket - or to a GitHub hook - is refused") {
  ServerFixture server;
  importHook(server, "bitbucket", "foo", "brydzewski/foo");
  importHook(server, "bitbucket-server", "my-repo", "PRJ/my-repo");
  importHook(server, "github", "gh", "acme/gh");
  const auto cloud = recorded("bitbucket-cloud/pullrequest_fulfilled.go-scm");
  const auto dc = recorded("bitbucket-dc/pr_merged");

  auto cloud_to_dc = send(server, "bitbucket-server", "my-repo", cloud);
  CHECK(cloud_to_dc->status == 400);
  CHECK(cloud_to_dc->body.find("wrong_provider") != std::string::npos);
  CHECK(cloud_to_dc->body.find("comes from Bitbucket Cloud") != std::string::npos);
  CHECK(cloud_to_dc->body.find("register a bitbucket hook") != std::string::npos);

  auto dc_to_cloud = send(server, "bitbucket", "foo", dc);
  CHECK(dc_to_cloud->status == 400);
  CHECK(dc_to_cloud->body.find("comes from Bitbucket Data Center") != std::string::npos);

  for (const auto* request : {&cloud, &dc}) {
    auto to_github = send(server, "github", "gh", *request);
    CHECK(to_github->status == 400);
    CHECK(to_github->body.find("wrong_provider") != std::string::npos);
  }
  CHECK(queueLength(server) == 0);
}

TEST_CASE("bitbucket payload: register names the route - repo paths of each host's shape") {
  ServerFixture server;
  for (const auto& [provider, good, bad] :
       {std::tuple{"bitbucket", "acme/payments", "acme"},
        std::tuple{"bitbucket-server", "~jcitizen/scratch", "PRJ/a/b"}}) {
    auto created = server.client().Post("/conduit/webhooks/register",
                                        std::string(R"({"provider":")") + provider +
                                            R"(","repo_path":")" + good + R"(","repo_id":"r"})",
                                        "application/json");
    REQUIRE(created);
    CHECK(created->status == 201);
    CHECK(jsonString(created->body, "/data/uri") ==
          std::string("/conduit/webhooks/") + provider + "/r/payload");
    auto refused = server.client().Post("/conduit/webhooks/register",
                                        std::string(R"({"provider":")") + provider +
                                            R"(","repo_path":")" + bad + R"(","repo_id":"r2"})",
                                        "application/json");
    CHECK(refused->status == 400);
    CHECK(refused->body.find("invalid_field") != std::string::npos);
  }
}
