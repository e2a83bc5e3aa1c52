#include "http/refused_requests.hpp"

#include <thread>

#include <doctest/doctest.h>

using conduit::http::AnsweredRequest;
using conduit::http::RefusedRequest;
using conduit::http::RefusedRequests;

namespace {

constexpr std::string_view kPayloadRoute = "/conduit/webhooks/:provider/:repo_id/payload";

AnsweredRequest answer(std::string_view route, int status, std::string_view error = "x") {
  AnsweredRequest a;
  a.method = "POST";
  a.path = "/conduit/webhooks/github/repo/payload";
  a.route = route;
  a.status = status;
  a.error = error;
  a.delivery = "d-1";
  a.peer = "127.0.0.1";
  return a;
}

RefusedRequest numbered(int i) {
  RefusedRequest r;
  r.status = 400 + i;
  return r;
}

}  // namespace

TEST_CASE("refused requests: which answers are kept") {
  // The payload routes: every answer >= 400.
  CHECK(RefusedRequests::worthKeeping(answer(kPayloadRoute, 401)));
  CHECK(RefusedRequests::worthKeeping(answer(kPayloadRoute, 404)));
  CHECK(RefusedRequests::worthKeeping(answer(kPayloadRoute, 400)));
  CHECK(RefusedRequests::worthKeeping(answer(kPayloadRoute, 503)));
  CHECK(RefusedRequests::worthKeeping(answer("/webhooks/:provider/:repo_id/payload", 415)));
  CHECK_FALSE(RefusedRequests::worthKeeping(answer(kPayloadRoute, 202)));
  CHECK_FALSE(RefusedRequests::worthKeeping(answer(kPayloadRoute, 200)));
  // Refused before routing: kept; an unknown path or method: not.
  CHECK(RefusedRequests::worthKeeping(answer("", 413)));
  CHECK(RefusedRequests::worthKeeping(answer("", 431)));
  CHECK(RefusedRequests::worthKeeping(answer("", 408)));
  CHECK(RefusedRequests::worthKeeping(answer("", 503)));
  CHECK_FALSE(RefusedRequests::worthKeeping(answer("", 404)));
  CHECK_FALSE(RefusedRequests::worthKeeping(answer("", 405)));
  // Admin routes: a wrong token (401) or CSRF token (403), not an admin's own mistakes.
  CHECK(RefusedRequests::worthKeeping(answer("/conduit/webhooks/register", 401)));
  CHECK(RefusedRequests::worthKeeping(answer("/conduit/deliveries", 403)));
  CHECK_FALSE(RefusedRequests::worthKeeping(answer("/conduit/webhooks/register", 409)));
  CHECK_FALSE(RefusedRequests::worthKeeping(answer("/conduit/deliveries", 400)));
  CHECK_FALSE(RefusedRequests::worthKeeping(answer("/conduit/deliveries/:a/:b/:c", 404)));
  CHECK_FALSE(RefusedRequests::worthKeeping(answer("/conduit/ready", 503)));
}

TEST_CASE("refused requests: kept newest first - the oldest dropped past the capacity") {
  RefusedRequests ring(3);
  CHECK(ring.newestFirst().empty());
  ring.add(numbered(1));
  ring.add(numbered(2));
  auto two = ring.newestFirst();
  REQUIRE(two.size() == 2);
  CHECK(two[0].status == 402);
  CHECK(two[1].status == 401);
  for (int i = 3; i <= 7; ++i)
    ring.add(numbered(i));
  auto full = ring.newestFirst();
  REQUIRE(full.size() == 3);
  CHECK(full[0].status == 407);
  CHECK(full[1].status == 406);
  CHECK(full[2].status == 405);
  CHECK(RefusedRequests::kDefaultCapacity == 200);
}

TEST_CASE("refused requests: what a client sent is kept printable and short") {
  RefusedRequests ring;
  AnsweredRequest a = answer(kPayloadRoute, 401, "signature_mismatch");
  const std::string long_path = "/conduit/webhooks/github/" + std::string(5000, 'a') + "\x01\xff";
  a.path = long_path;
  a.delivery = "bad id\n";
  ring.observe(a);
  ring.observe(answer("/conduit/ping", 200));  // not refused
  auto kept = ring.newestFirst();
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].path.size() == 256);
  CHECK(kept[0].delivery == "bad?id?");
  CHECK(kept[0].route == kPayloadRoute);
  CHECK(kept[0].status == 401);
  CHECK(kept[0].error == "signature_mismatch");
  CHECK(kept[0].source == "127.0.0.1");
  CHECK(kept[0].at_ms > 0);
}

TEST_CASE("refused requests: many threads at once") {
  RefusedRequests ring(50);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ring] {
      for (int i = 0; i < 1000; ++i) {
        ring.observe(answer(kPayloadRoute, 401));
        if (i % 100 == 0) CHECK(ring.newestFirst().size() <= 50);
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(ring.newestFirst().size() == 50);
}
