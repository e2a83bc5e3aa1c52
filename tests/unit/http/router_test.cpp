#include "http/router.hpp"

#include <doctest/doctest.h>

#include "store/hook_registry.hpp"
#include "store/redis_connection.hpp"

using conduit::http::Request;
using conduit::http::Response;
using conduit::http::Router;

namespace {

Request request(std::string_view method, std::string_view path) {
  Request r;
  r.method = method;
  r.path = path;
  return r;
}

Response text(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

}  // namespace

TEST_CASE("router: literal paths and :params") {
  Router router;
  router.add("GET", "/conduit/ping", [](const Request&) { return text("pong"); });
  router.add("POST", "/conduit/webhooks/:provider/:repo_id/payload", [](const Request& r) {
    return text(std::string(r.param("provider")) + "|" + std::string(r.param("repo_id")));
  });

  auto ping = request("GET", "/conduit/ping");
  CHECK(router.dispatch(ping).body == "pong");
  auto payload = request("POST", "/conduit/webhooks/github/my.repo/payload");
  CHECK(router.dispatch(payload).body == "github|my.repo");
}

TEST_CASE("router: unknown paths are 404 - known paths with another method 405 - as JSON") {
  Router router;
  router.add("GET", "/conduit/ping", [](const Request&) { return text("pong"); });
  auto missing = request("GET", "/nowhere");
  auto not_found = router.dispatch(missing);
  CHECK(not_found.status == 404);
  CHECK(not_found.body.find("\"error_code\":1202") != std::string::npos);
  auto post = request("POST", "/conduit/ping");
  CHECK(router.dispatch(post).status == 405);
  auto empty_segment = request("POST", "/conduit/webhooks//repo/payload");
  CHECK(router.dispatch(empty_segment).status == 404);
}

TEST_CASE("router: errors escaping a handler become 503 - 500 - never a crash") {
  Router router;
  router.add("GET", "/redis", [](const Request&) -> Response {
    throw conduit::store::RedisUnavailable("Redis: cannot connect: refused");
  });
  router.add("GET", "/secret", [](const Request&) -> Response {
    throw conduit::store::SecretUnreadable("sealed with another key");
  });
  router.add("GET", "/bug", [](const Request&) -> Response { throw std::logic_error("bug"); });

  auto redis = request("GET", "/redis");
  auto unavailable = router.dispatch(redis);
  CHECK(unavailable.status == 503);
  CHECK(unavailable.body.find("redis_unavailable") != std::string::npos);

  auto secret = request("GET", "/secret");
  auto unreadable = router.dispatch(secret);
  CHECK(unreadable.status == 500);
  CHECK(unreadable.body.find("hook_secret_unreadable") != std::string::npos);
  CHECK(unreadable.body.find("another key") == std::string::npos);  // details stay in the log

  auto bug = request("GET", "/bug");
  CHECK(router.dispatch(bug).status == 500);
}

TEST_CASE("router: patterns lists each route's method and pattern in the order added") {
  Router router;
  CHECK(router.patterns().empty());
  router.add("GET", "/conduit/ping", [](const Request&) { return text("pong"); });
  router.add("POST", "/webhooks/:provider/:repo_id/payload",
             [](const Request&) { return text(""); });
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"GET", "/conduit/ping"}, {"POST", "/webhooks/:provider/:repo_id/payload"}};
  CHECK(router.patterns() == expected);
}
