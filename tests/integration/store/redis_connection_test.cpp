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

TEST_CASE("redis connection: pipelineVectored sends large arguments from the caller's memory") {
  RedisServer redis;
  RedisConnection connection(redis.endpoint(), 5s);
  const std::string big(300000, 'b');  // larger than a socket buffer: written in parts
  const std::string small = "small";
  auto replies = connection.pipelineVectored(
      {{"SET", "k:big", big}, {"SET", "k:small", small}, {"MGET", "k:big", "k:small", "k:none"}});
  REQUIRE(replies.size() == 3);
  CHECK(replies[0].text == "OK");
  REQUIRE(replies[2].elements.size() == 3);
  CHECK(replies[2].elements[0].text == big);
  CHECK(replies[2].elements[1].text == small);
  CHECK(replies[2].elements[2].isNil());
  // An empty argument, and one exactly at the threshold.
  const std::string edge(RedisConnection::kOwnSegmentBytes, 'e');
  replies = connection.pipelineVectored({{"SET", "k:empty", ""}, {"SET", "k:edge", edge}});
  CHECK(connection.command({"GET", "k:empty"}).text.empty());
  CHECK(connection.command({"GET", "k:edge"}).text == edge);

  // More segments than one writev() takes (IOV_MAX): sent in several.
  std::vector<std::string> values;
  conduit::store::RedisArgs mset = {"MSET"};
  for (int i = 0; i < 1500; ++i)
    values.push_back(std::to_string(i) + std::string(2000, 'v'));
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i)
    keys.push_back("k:" + std::to_string(i));
  for (int i = 0; i < 1500; ++i)
    mset.insert(mset.end(), {keys[i], values[i]});
  connection.pipelineVectored({mset});
  CHECK(connection.command({"GET", "k:1499"}).text == values[1499]);
  CHECK(connection.command({"GET", "k:0"}).text == values[0]);

  // An error reply throws once every reply was read: the connection stays usable.
  CHECK_THROWS_AS(connection.pipelineVectored({{"INCR", "k:small"}, {"PING"}}),
                  conduit::store::RedisError);
  CHECK(connection.command({"PING"}).text == "PONG");
}

TEST_CASE("redis connection: pipelineVectored to a Redis that went away throws RedisUnavailable") {
  RedisServer redis;
  RedisConnection connection(redis.endpoint(), 2s);
  CHECK(connection.command({"PING"}).text == "PONG");
  redis.stop();
  const std::string big(300000, 'b');
  CHECK_THROWS_AS(connection.pipelineVectored({{"SET", "k", big}}), RedisUnavailable);
  CHECK(connection.broken());
}
