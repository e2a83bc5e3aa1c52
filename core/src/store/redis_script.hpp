#pragma once

#include <string>

#include "store/redis_connection.hpp"

namespace conduit::store {

// A Lua script run atomically by Redis. Sent by its SHA-1 (EVALSHA), and in full only when
// Redis does not have it cached yet (after a restart or SCRIPT FLUSH).
class RedisScript {
 public:
  explicit RedisScript(std::string source);

  // `args` holds the keys first, then the other arguments; `key_count` says how many are keys.
  RedisValue run(RedisConnection& connection, size_t key_count, const RedisArgs& args) const;

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace conduit::store
