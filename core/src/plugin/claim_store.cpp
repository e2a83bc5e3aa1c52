#include "plugin/claim_store.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "queue/redis_keys.hpp"
#include "store/redis_script.hpp"

namespace conduit::plugin {
namespace {

// Claims the name for ARGV[1] unless it is claimed, and answers who holds it: one script, so
// that no expiry between a failed SET NX and a GET can leave the answer empty.
const store::RedisScript kClaimScript(R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return ARGV[1] end
return redis.call('GET', KEYS[1])
)lua");

}  // namespace

ClaimStore::ClaimStore(store::RedisPool& redis, std::chrono::hours lifetime)
    : redis_(redis), lifetime_(lifetime) {}

std::string ClaimStore::redisKey(std::string_view worker, std::string_view name) {
  return queue::redis_keys::claimKey(worker, name);
}

ClaimStore::Claim ClaimStore::claim(std::string_view worker, std::string_view name,
                                    std::string_view identity) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    throw std::invalid_argument(
        fmt::format("a claim's name is 1 to {} bytes, not {}", kMaxNameBytes, name.size()));
  }
  const std::string key = redisKey(worker, name);
  const std::string seconds =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(lifetime_).count());
  // Running it twice is harmless: the second run finds the name claimed by the same identity.
  const auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kClaimScript.run(c, 1, {key, std::string(identity), seconds});
  });
  return Claim{reply.text == identity, reply.text};
}

}  // namespace conduit::plugin
