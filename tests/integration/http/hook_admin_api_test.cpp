#include <doctest/doctest.h>

#include "server_fixture.hpp"

using conduit::testing::githubSignature;
using conduit::testing::jsonString;
using conduit::testing::ServerFixture;

namespace {

const httplib::Headers kNoHeaders;

std::string hookBody(const std::string& repo_id, const std::string& extra = "") {
  return R"({"provider":"github","repo_path":"org/)" + repo_id + R"(","repo_id":")" + repo_id +
         "\"" + extra + "}";
}

}  // namespace

TEST_CASE("api: ping and version are plain text") {
  ServerFixture server;
  auto client = server.client();
  auto ping = client.Get("/conduit/ping");
  REQUIRE(ping);
  CHECK(ping->status == 200);
  CHECK(ping->body == "pong");
  CHECK(ping->get_header_value("Content-Type") == "text/plain");
  auto version = client.Get("/conduit/version");
  REQUIRE(version);
  CHECK(version->body == CONDUIT_VERSION_FOR_TESTS);
}

TEST_CASE("api: ready answers 200 while Redis answers - 503 while it does not") {
  ServerFixture server;
  auto client = server.client();
  auto ready = client.Get("/conduit/ready");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body == "ready");

  server.redis().stop();
  auto down = client.Get("/conduit/ready");
  REQUIRE(down);
  CHECK(down->status == 503);
  CHECK(down->body.find("redis_unavailable") != std::string::npos);
  CHECK(client.Get("/conduit/ping")->status == 200);  // liveness does not depend on Redis

  server.redis().start();
  CHECK(client.Get("/conduit/ready")->status == 200);
}

TEST_CASE("api: register answers 201 with a one-time secret and the payload uri") {
  ServerFixture server;
  auto response =
      server.client().Post("/conduit/webhooks/register", hookBody("repo"), "application/json");
  REQUIRE(response);
  CHECK(response->status == 201);
  const std::string secret = jsonString(response->body, "/data/secret");
  CHECK(secret.size() == 64);
  CHECK(secret.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(jsonString(response->body, "/data/uri") == "/conduit/webhooks/github/repo/payload");

  auto again =
      server.client().Post("/conduit/webhooks/register", hookBody("repo"), "application/json");
  REQUIRE(again);
  CHECK(again->status == 409);
  CHECK(again->body.find(R"("error_msg":"hook_exists")") != std::string::npos);
  CHECK(again->body.find(secret) == std::string::npos);
}

TEST_CASE("api: register refuses missing - empty or malformed fields - naming the field") {
  ServerFixture server;
  auto post = [&](const std::string& body) {
    auto r = server.client().Post("/conduit/webhooks/register", body, "application/json");
    REQUIRE(r);
    return *r;
  };
  auto missing = post(R"({"provider":"github","repo_id":"repo"})");
  CHECK(missing.status == 400);
  CHECK(missing.body.find(R"("error_msg":"missing_field","field":"repo_path")") !=
        std::string::npos);
  auto empty = post(R"({"provider":"github","repo_id":"","repo_path":"o/r"})");
  CHECK(empty.status == 400);
  CHECK(empty.body.find(R"("field":"repo_id")") != std::string::npos);
  auto unknown = post(R"({"provider":"svn","repo_id":"r","repo_path":"o/r"})");
  CHECK(unknown.status == 400);
  CHECK(unknown.body.find("unknown_provider") != std::string::npos);
  auto bad_id = post(R"({"provider":"github","repo_id":"org/repo","repo_path":"o/r"})");
  CHECK(bad_id.status == 400);
  CHECK(bad_id.body.find(R"("error_msg":"invalid_field","field":"repo_id")") != std::string::npos);
  auto long_id =
      post(R"({"provider":"github","repo_path":"o/r","repo_id":")" + std::string(101, 'a') + "\"}");
  CHECK(long_id.status == 400);
  auto not_string = post(R"({"provider":"github","repo_id":5,"repo_path":"o/r"})");
  CHECK(not_string.status == 400);
  CHECK(not_string.body.find(R"("field":"repo_id")") != std::string::npos);
  auto not_json = post("provider=github");
  CHECK(not_json.status == 400);
  CHECK(not_json.body.find("invalid_json") != std::string::npos);
  // Deep nesting is refused, not a stack overflow; the server is still there afterwards.
  auto deep = post("{\"a\":" + std::string(200000, '[') + "}");
  CHECK(deep.status == 413);
  auto nested = post("{\"a\":" + std::string(20000, '[') + std::string(20000, ']') + "}");
  CHECK(nested.status == 400);
  CHECK(nested.body.find("invalid_json") != std::string::npos);
  CHECK(server.client().Get("/conduit/ping")->status == 200);
}

TEST_CASE("api: update makes a new secret - the old one stops working - 404 for no hook") {
  ServerFixture server;
  const std::string old_secret = server.registerHook("repo");
  int n = 0;
  for (const char* path : {"/conduit/webhooks/update", "/webhooks/update"}) {
    auto response = server.client().Patch(path, hookBody("repo"), "application/json");
    REQUIRE(response);
    CHECK(response->status == 200);
    const std::string new_secret = jsonString(response->body, "/data/secret");
    CHECK(new_secret != old_secret);
    CHECK(server.deliver("repo", "{}", old_secret)->status == 401);
    CHECK(server.deliver("repo", "{}", new_secret, "push", "d-" + std::to_string(++n))->status ==
          202);
  }
  auto missing =
      server.client().Patch("/conduit/webhooks/update", hookBody("nope"), "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 404);
}

TEST_CASE("api: import stores an existing secret - at both paths - without echoing it") {
  ServerFixture server;
  int n = 0;
  for (const char* path : {"/conduit/internal/webhooks/import", "/internal/webhooks/import"}) {
    const std::string repo = "moved" + std::to_string(++n);
    auto response = server.client().Patch(path, hookBody(repo, R"(,"secret":"from-elsewhere")"),
                                          "application/json");
    REQUIRE(response);
    CHECK(response->status == 201);
    CHECK(response->body.find("from-elsewhere") == std::string::npos);
    CHECK(server.deliver(repo, "{}", "from-elsewhere")->status == 202);
    auto again =
        server.client().Patch(path, hookBody(repo, R"(,"secret":"x")"), "application/json");
    CHECK(again->status == 409);
  }
  auto no_secret =
      server.client().Patch("/conduit/internal/webhooks/import", hookBody("r"), "application/json");
  CHECK(no_secret->status == 400);
  CHECK(no_secret->body.find(R"("field":"secret")") != std::string::npos);
  // A secret no code host could send back: refused, rather than a hook that refuses everything.
  for (const char* bad : {R"(,"secret":" padded")", R"(,"secret":"two\nlines")"}) {
    auto refused = server.client().Patch("/conduit/internal/webhooks/import", hookBody("r", bad),
                                         "application/json");
    CHECK_MESSAGE(refused->status == 400, bad);
    CHECK(refused->body.find(R"("field":"secret")") != std::string::npos);
    CHECK(refused->body.find("could never send it back") != std::string::npos);
  }
}

TEST_CASE("api: find - list and delete - no route shows a secret") {
  ServerFixture server;
  const std::string secret_b = server.registerHook("b-repo");
  const std::string secret_a = server.registerHook("a-repo");
  auto client = server.client();

  auto found = client.Get("/conduit/webhooks/find?provider=github&repo_id=a-repo");
  REQUIRE(found);
  CHECK(found->status == 200);
  CHECK(found->body == R"({"success":true,"data":{"provider":"github","repo_id":"a-repo",)"
                       R"("repo_path":"org/repo"}})");
  CHECK(client.Get("/conduit/webhooks/find?provider=github&repo_id=zzz")->status == 404);
  CHECK(client.Get("/conduit/webhooks/find?provider=github")->status == 400);

  auto list = client.Get("/conduit/webhooks/list?provider=github");
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(list->body.find(R"("repo_id":"a-repo")") < list->body.find(R"("repo_id":"b-repo")"));
  for (const auto& body : {found->body, list->body}) {
    CHECK(body.find(secret_a) == std::string::npos);
    CHECK(body.find(secret_b) == std::string::npos);
    CHECK(body.find("secret") == std::string::npos);
  }
  CHECK(client.Get("/conduit/webhooks/list?provider=nope")->status == 400);

  auto deleted = client.Delete("/conduit/webhooks/github/a-repo");
  REQUIRE(deleted);
  CHECK(deleted->status == 204);
  CHECK(deleted->body.empty());
  CHECK(client.Delete("/conduit/webhooks/github/a-repo")->status == 404);
  CHECK(client.Delete("/conduit/webhooks/gitlab/b-repo")->status == 404);
  CHECK(server.deliver("a-repo", "{}", secret_a)->status == 404);
}

TEST_CASE("api: with an admin_token - admin routes need the bearer token - the rest do not") {
  const std::string token = "an-admin-token-of-some-length";
  ServerFixture server([&](auto& settings) { settings.admin_token = token; });
  auto client = server.client();
  const auto body = hookBody("repo");

  CHECK(client.Post("/conduit/webhooks/register", body, "application/json")->status == 401);
  httplib::Headers wrong = {{"Authorization", "Bearer not-the-token-at-all-no"}};
  auto refused = client.Post("/conduit/webhooks/register", wrong, body, "application/json");
  CHECK(refused->status == 401);
  CHECK(refused->body.find(R"("error_msg":"unauthorized")") != std::string::npos);
  CHECK(client.Get("/conduit/webhooks/list?provider=github", wrong)->status == 401);
  CHECK(client.Delete("/conduit/webhooks/github/repo", wrong)->status == 401);

  const std::string secret = server.registerHook("repo");  // with the right token
  CHECK(client.Get("/conduit/ping")->status == 200);
  CHECK(server.deliver("repo", "{}", secret)->status == 202);
}

TEST_CASE("api: without an admin_token - requests forwarded by a local proxy are refused") {
  ServerFixture server;
  httplib::Headers proxied = {{"X-Forwarded-For", "203.0.113.9"}};
  auto refused = server.client().Post("/conduit/webhooks/register", proxied, hookBody("repo"),
                                      "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  CHECK(refused->body.find("admin_loopback_only") != std::string::npos);
  CHECK(server.client()
            .Post("/conduit/webhooks/register", hookBody("repo"), "application/json")
            ->status == 201);
}

TEST_CASE("api: unknown routes and methods answer JSON errors") {
  ServerFixture server;
  auto client = server.client();
  auto missing = client.Get("/nowhere");
  CHECK(missing->status == 404);
  CHECK(missing->body.find("route_not_found") != std::string::npos);
  CHECK(client.Get("/conduit/webhooks/register")->status == 405);
}
