#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "store/redis_pool.hpp"

namespace conduit::plugin {

// The store behind the plugin API's claim (ABI 1.4): a name claimed once per worker, across
// deliveries, for the worker's checkpoint_ttl_hours. The Jira plugin claims the smart commit
// commands of a commit, which a rebase or a merge pushes again in a delivery of its own. One
// Redis string per (worker, name), holding the identity of the delivery that claimed it first:
//   conduit::claims::<worker>::<name>
// set with SET NX EX and read back in the same script, so that of two deliveries claiming a name
// at once exactly one gets it, and a retry or replay of the winner (same identity) gets it again.
// The key's name is defined with the others in queue/redis_keys.hpp.
class ClaimStore {
 public:
  static constexpr size_t kMaxNameBytes = 256;

  explicit ClaimStore(store::RedisPool& redis,
                      std::chrono::hours lifetime = std::chrono::hours(720));

  // What claim() found: whether the name is `identity`'s, and the identity that holds it.
  struct Claim {
    bool ours = false;
    std::string owner;  // the identity of the delivery that claimed it first (ours: `identity`)
  };

  // Claims `name` for the delivery `identity` (CheckpointStore::deliveryIdentity's) in `worker`,
  // unless another claimed it first. Throws std::invalid_argument for a name of 0 or more than
  // kMaxNameBytes bytes; store::RedisUnavailable or store::RedisError when Redis cannot serve.
  Claim claim(std::string_view worker, std::string_view name, std::string_view identity);

  std::chrono::hours lifetime() const { return lifetime_; }

  static std::string redisKey(std::string_view worker, std::string_view name);

 private:
  store::RedisPool& redis_;
  std::chrono::hours lifetime_;
};

}  // namespace conduit::plugin
