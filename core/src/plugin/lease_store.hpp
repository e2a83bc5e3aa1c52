#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "store/redis_pool.hpp"

namespace conduit::plugin {

// The store behind the plugin API's leases: mutual exclusion on a name (a Jira issue key) across
// the threads of a process and across worker processes on any machine. One Redis string per
// (worker, name), holding its holder's random token:
//   conduit::leases::<worker>::<name>
// taken with SET NX PX, so that it ends by itself `ttl` after it was taken when its holder dies,
// and released by a script that deletes it only while it still holds the releaser's token, so
// that a holder whose lease expired cannot end its successor's. The key's name is defined with
// the others in queue/redis_keys.hpp.
class LeaseStore {
 public:
  static constexpr size_t kMaxNameBytes = 256;
  static constexpr std::chrono::milliseconds kMaxTtl{3'600'000};
  static constexpr std::chrono::milliseconds kMaxWait{600'000};

  explicit LeaseStore(store::RedisPool& redis);

  // Takes the lease, trying again while another holds it until `wait` has passed (0: once).
  // Returns its token, or nullopt when another still held it then. Throws std::invalid_argument
  // for a name, ttl or wait out of range; store::RedisUnavailable or store::RedisError when
  // Redis cannot serve.
  std::optional<std::string> acquire(std::string_view worker, std::string_view name,
                                     std::chrono::milliseconds ttl, std::chrono::milliseconds wait);

  // Keeps the lease for `ttl` from now if `token` still holds it: true; false when it had
  // expired. Throws as acquire does.
  bool extend(std::string_view worker, std::string_view name, std::string_view token,
              std::chrono::milliseconds ttl);

  // Ends the lease if `token` still holds it: true; false when it had expired (and may be
  // another's by now). Throws as acquire does.
  bool release(std::string_view worker, std::string_view name, std::string_view token);

  static std::string redisKey(std::string_view worker, std::string_view name);

 private:
  store::RedisPool& redis_;
};

}  // namespace conduit::plugin
