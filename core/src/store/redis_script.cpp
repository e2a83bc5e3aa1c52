#include "store/redis_script.hpp"

#include <openssl/sha.h>

#include "crypto/hex.hpp"

namespace conduit::store {

RedisScript::RedisScript(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  sha1_ = crypto::toHex(digest, sizeof digest);
}

RedisValue RedisScript::run(RedisConnection& connection, size_t key_count,
                            const RedisArgs& args) const {
  const std::string keys = std::to_string(key_count);
  RedisArgs command;
  command.reserve(args.size() + 3);
  command.push_back("EVALSHA");
  command.push_back(sha1_);
  command.push_back(keys);
  command.insert(command.end(), args.begin(), args.end());
  try {
    return connection.command(command);
  } catch (const RedisError& e) {
    if (std::string_view(e.what()).substr(0, 8) != "NOSCRIPT") throw;
  }
  command[0] = "EVAL";
  command[1] = source_;
  return connection.command(command);
}

}  // namespace conduit::store
