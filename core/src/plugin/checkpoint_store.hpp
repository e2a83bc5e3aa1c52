#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "store/redis_pool.hpp"

namespace conduit::plugin {

// The per-delivery store behind the plugin API's checkpoint functions: short strings a
// processor keeps while it works on a delivery, so that a retry, another worker process after
// a crash, or the same delivery queued again (a dead letter put back, a redelivery accepted
// after its id was forgotten) knows what was already done. One Redis hash per (delivery
// identity, worker):
//   conduit::checkpoints::<provider>::<repo_id>::<delivery id>::<worker>
// kept for `lifetime` after its last write, and again for `lifetime` after the delivery was
// acknowledged or dead-lettered (the worker sets that expiry when it finishes the delivery).
class CheckpointStore {
 public:
  static constexpr size_t kMaxKeyBytes = 256;
  static constexpr size_t kMaxValueBytes = 4096;

  explicit CheckpointStore(store::RedisPool& redis,
                           std::chrono::hours lifetime = std::chrono::hours(720));

  // `identity` is deliveryIdentity()'s. Throws std::invalid_argument past the size limits,
  // store::RedisUnavailable.
  void put(std::string_view identity, std::string_view worker, std::string_view key,
           std::string_view value);
  std::optional<std::string> get(std::string_view identity, std::string_view worker,
                                 std::string_view key);
  void erase(std::string_view identity, std::string_view worker);

  std::chrono::hours lifetime() const { return lifetime_; }

  // <provider>::<repo_id>::<delivery id>: the same for every stream entry of one delivery.
  // An entry whose provider, repo id or delivery id is not one the ingress accepts (written by
  // hand, say a replay that left its `delivery` field out) has no identity to share with
  // others: its checkpoints are its own, under @entry::<entry id> (no provider starts with @),
  // so that such entries never read one another's.
  static std::string deliveryIdentity(std::string_view provider, std::string_view repo_id,
                                      std::string_view delivery_id, std::string_view entry_id);
  static std::string redisKey(std::string_view identity, std::string_view worker);

 private:
  store::RedisPool& redis_;
  std::chrono::hours lifetime_;
};

}  // namespace conduit::plugin
