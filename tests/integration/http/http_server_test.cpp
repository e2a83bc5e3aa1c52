#include "http/http_server.hpp"

#include <atomic>
#include <future>
#include <thread>

#include <doctest/doctest.h>
#include <httplib.h>

using conduit::http::HttpServer;
using conduit::http::Request;
using conduit::http::Response;
using conduit::http::Router;

namespace {

// How many /slow requests have started: the tests wait for theirs to be running rather than
// guessing how long that takes on a loaded machine.
std::atomic<int> g_slow_started{0};

void waitForSlowRequests(int count) {
  while (g_slow_started.load() < count)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

std::shared_ptr<Router> slowRouter(std::chrono::milliseconds delay) {
  g_slow_started = 0;
  auto router = std::make_shared<Router>();
  router->add("GET", "/slow", [delay](const Request&) {
    ++g_slow_started;
    std::this_thread::sleep_for(delay);
    Response r;
    r.body = "done";
    return r;
  });
  router->add("GET", "/fast", [](const Request&) { return Response{}; });
  return router;
}

conduit::http::HttpServerOptions localOptions(uint16_t port, int threads, size_t max_body_bytes) {
  conduit::http::HttpServerOptions options;
  options.bind = "127.0.0.1";
  options.port = port;
  options.threads = threads;
  options.max_body_bytes = max_body_bytes;
  return options;
}

}  // namespace

TEST_CASE("server: stopping lets requests in flight finish and answers new ones 503") {
  HttpServer server(localOptions(0, 2, 1024 * 1024), slowRouter(std::chrono::milliseconds(3000)));
  server.start();
  const int port = server.port();

  auto in_flight = std::async(std::launch::async, [port] {
    httplib::Client client("127.0.0.1", port);
    return client.Get("/slow");
  });
  waitForSlowRequests(1);

  auto stopping = std::async(std::launch::async,
                             [&server] { return server.drainAndStop(std::chrono::seconds(10)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // Pistache gives each connection to one of its threads; one given to the thread the slow
  // handler blocks waits behind it. A new connection lands elsewhere.
  auto ask = [port] {
    httplib::Client late("127.0.0.1", port);
    late.set_read_timeout(0, 300000);
    return late.Get("/fast");
  };
  httplib::Result refused = ask();
  for (int tries = 1; tries < 6 && !refused; ++tries)
    refused = ask();
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->get_header_value("Connection") == "Close");
  CHECK(refused->body.find("shutting_down") != std::string::npos);

  auto finished = in_flight.get();
  REQUIRE(finished);
  CHECK(finished->status == 200);
  CHECK(finished->body == "done");
  CHECK(stopping.get() == 0);

  httplib::Client after("127.0.0.1", port);
  CHECK_FALSE(after.Get("/fast"));  // nothing listens any more
}

TEST_CASE("server: the grace is bounded - requests still running are counted - not waited for") {
  HttpServer server(localOptions(0, 2, 1024 * 1024), slowRouter(std::chrono::milliseconds(1500)));
  server.start();
  const int port = server.port();
  auto in_flight = std::async(std::launch::async, [port] {
    httplib::Client client("127.0.0.1", port);
    return client.Get("/slow");
  });
  waitForSlowRequests(1);
  const auto started = std::chrono::steady_clock::now();
  CHECK(server.drainAndStop(std::chrono::milliseconds(100)) == 1);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(1000));
  // The endpoint is left up, still refusing new work, for the caller to exit.
  httplib::Client late("127.0.0.1", port);
  auto refused = late.Get("/fast");
  REQUIRE(refused);
  CHECK(refused->status == 503);
  in_flight.wait();
}

TEST_CASE("server: a port already taken is a clear error") {
  HttpServer first(localOptions(0, 1, 1024), slowRouter(std::chrono::milliseconds(0)));
  first.start();
  HttpServer second(localOptions(first.port(), 1, 1024), slowRouter(std::chrono::milliseconds(0)));
  CHECK_THROWS_WITH_AS(second.start(), doctest::Contains("cannot listen on 127.0.0.1:"),
                       std::runtime_error);
}
