#include "config/redis_url.hpp"

#include <doctest/doctest.h>

using conduit::config::parseRedisUrl;
using conduit::config::RedisEndpoint;

TEST_CASE("redis_url: the original's host:port") {
  std::string error;
  auto endpoint = parseRedisUrl("cache.local:6380", error);
  REQUIRE(endpoint);
  CHECK(endpoint->kind == RedisEndpoint::Kind::kTcp);
  CHECK(endpoint->host == "cache.local");
  CHECK(endpoint->port == 6380);
  CHECK(endpoint->db == 0);
}

TEST_CASE("redis_url: redis:// with password - port and database") {
  std::string error;
  auto endpoint = parseRedisUrl("redis://:pa:ss@10.0.0.5:6390/3", error);
  REQUIRE(endpoint);
  CHECK(endpoint->host == "10.0.0.5");
  CHECK(endpoint->port == 6390);
  CHECK(endpoint->username.empty());
  CHECK(endpoint->password == "pa:ss");
  CHECK(endpoint->db == 3);
  CHECK(endpoint->describe().find("pa:ss") == std::string::npos);

  auto with_user = parseRedisUrl("redis://app:pw@host", error);
  REQUIRE(with_user);
  CHECK(with_user->username == "app");
  CHECK(with_user->port == 6379);

  auto v6 = parseRedisUrl("redis://[::1]:7000", error);
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 7000);
}

TEST_CASE("redis_url: unix sockets") {
  std::string error;
  auto endpoint = parseRedisUrl("unix:///run/redis/redis.sock?db=2", error);
  REQUIRE(endpoint);
  CHECK(endpoint->kind == RedisEndpoint::Kind::kUnix);
  CHECK(endpoint->socket_path == "/run/redis/redis.sock");
  CHECK(endpoint->db == 2);
}

TEST_CASE("redis_url: malformed values say what is wrong") {
  std::string error;
  CHECK_FALSE(parseRedisUrl("host:99999", error));
  CHECK(error.find("port") != std::string::npos);
  CHECK_FALSE(parseRedisUrl("rediss://host:6379", error));
  CHECK(error.find("TLS") != std::string::npos);
  CHECK_FALSE(parseRedisUrl("unix://relative.sock", error));
  CHECK(error.find("absolute") != std::string::npos);
  CHECK_FALSE(parseRedisUrl("redis://host/notanumber", error));
  CHECK(error.find("database") != std::string::npos);
  CHECK_FALSE(parseRedisUrl("", error));
  CHECK_FALSE(parseRedisUrl("host:", error));
}
