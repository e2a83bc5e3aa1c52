#include "store/redis_connection.hpp"

#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>

#include "redis_server.hpp"

using conduit::store::RedisConnection;
using conduit::store::RedisUnavailable;
using conduit::testing::RedisServer;
using namespace std::chrono_literals;

TEST_CASE("redis connection: a host name is resolved - then connected to - within the timeout") {
  RedisServer redis(RedisServer::Listen::kTcp);
  auto endpoint = redis.endpoint();
  endpoint.host = "redis.conduit.test";
  std::vector<std::string> asked;
  auto resolver = [&asked](const std::string& host) -> std::vector<std::string> {
    asked.push_back(host);
    // Redis listens on 127.0.0.1 only: the first address refuses, the next is tried within the
    // same deadline.
    return {"127.0.0.2", "127.0.0.1"};
  };
  RedisConnection connection(endpoint, 2s, resolver);
  CHECK(connection.command({"PING"}).text == "PONG");
  CHECK(asked == std::vector<std::string>{"redis.conduit.test"});
}

TEST_CASE("redis connection: a resolver that does not answer fails the connect at its timeout") {
  RedisServer redis(RedisServer::Listen::kTcp);
  auto endpoint = redis.endpoint();
  endpoint.host = "redis.conduit.test";
  // What a DNS server that does not answer does to getaddrinfo().
  auto silent = [](const std::string&) -> std::vector<std::string> {
    std::this_thread::sleep_for(3s);
    return {"127.0.0.1"};
  };
  const auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(
      RedisConnection(endpoint, 300ms, silent),
      "Redis: cannot connect: cannot resolve redis.conduit.test: no answer in time",
      RedisUnavailable);
  CHECK(std::chrono::steady_clock::now() - started < 2s);  // the 3 s are not waited for

  auto failing = [](const std::string&) -> std::vector<std::string> {
    throw std::runtime_error("Name or service not known");
  };
  CHECK_THROWS_WITH_AS(
      RedisConnection(endpoint, 2s, failing),
      "Redis: cannot connect: cannot resolve redis.conduit.test: Name or service not known",
      RedisUnavailable);
}

TEST_CASE("redis connection: localhost - a name - resolves with the system's resolver") {
  RedisServer redis(RedisServer::Listen::kTcp);
  auto endpoint = redis.endpoint();
  endpoint.host = "localhost";
  RedisConnection connection(endpoint, 2s);
  CHECK(connection.command({"PING"}).text == "PONG");
}
