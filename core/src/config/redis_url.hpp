#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace conduit::config {

// Where Redis is, and how to log in to it.
struct RedisEndpoint {
  enum class Kind { kTcp, kUnix };
  Kind kind = Kind::kTcp;
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string socket_path;  // for kUnix
  std::string username;     // Redis 6 ACL user; empty for the default user
  std::string password;     // empty: no AUTH
  int db = 0;

  // For logs: never shows the password.
  std::string describe() const;
};

// Parses the three forms `redis_url` takes:
//   host:port                               (the original service's form)
//   redis://[[user]:password@]host[:port][/db]
//   unix:///path/to/socket[?db=N]
// Returns nullopt with `error` set to a sentence saying what is wrong.
std::optional<RedisEndpoint> parseRedisUrl(std::string_view url, std::string& error);

}  // namespace conduit::config
