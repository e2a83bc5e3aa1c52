#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/redis_pool.hpp"

namespace conduit::plugin {

// The per-delivery store behind the plugin API's checkpoint functions: short strings a
// processor keeps while it works on a delivery, so that a retry, or another worker process after
// a crash, knows what was already done. One Redis hash per (stream entry, worker):
//   conduit::checkpoints::<entry id>::<worker>
// erased when the delivery is acknowledged or dead-lettered, and expiring after 30 days in case
// nothing ever does (a queue wiped by hand, say).
class CheckpointStore {
 public:
  static constexpr size_t kMaxKeyBytes = 256;
  static constexpr size_t kMaxValueBytes = 4096;

  explicit CheckpointStore(store::RedisPool& redis);

  // Throws std::invalid_argument past the size limits, store::RedisUnavailable.
  void put(std::string_view entry_id, std::string_view worker, std::string_view key,
           std::string_view value);
  std::optional<std::string> get(std::string_view entry_id, std::string_view worker,
                                 std::string_view key);
  void erase(std::string_view entry_id, std::string_view worker);

  static std::string redisKey(std::string_view entry_id, std::string_view worker);

 private:
  store::RedisPool& redis_;
};

}  // namespace conduit::plugin
