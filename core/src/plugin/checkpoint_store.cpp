#include "plugin/checkpoint_store.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

#include "queue/delivery.hpp"
#include "queue/redis_keys.hpp"
#include "store/hook.hpp"

namespace conduit::plugin {

CheckpointStore::CheckpointStore(store::RedisPool& redis, std::chrono::hours lifetime)
    : redis_(redis), lifetime_(lifetime) {}

std::string CheckpointStore::deliveryIdentity(std::string_view provider, std::string_view repo_id,
                                              std::string_view delivery_id,
                                              std::string_view entry_id) {
  const bool provider_ok =
      !provider.empty() && std::all_of(provider.begin(), provider.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
  if (provider_ok && store::isValidRepoId(repo_id) && queue::isValidDeliveryId(delivery_id)) {
    return queue::redis_keys::deliveryIdentity(provider, repo_id, delivery_id);
  }
  return std::string("@entry::").append(entry_id);
}

std::string CheckpointStore::redisKey(std::string_view identity, std::string_view worker) {
  return queue::redis_keys::checkpointKey(identity, worker);
}

void CheckpointStore::put(std::string_view identity, std::string_view worker, std::string_view key,
                          std::string_view value) {
  if (key.empty() || key.size() > kMaxKeyBytes) {
    throw std::invalid_argument(
        fmt::format("a checkpoint key is 1 to {} bytes, not {}", kMaxKeyBytes, key.size()));
  }
  if (value.size() > kMaxValueBytes) {
    throw std::invalid_argument(fmt::format("a checkpoint value is at most {} bytes, not {}",
                                            kMaxValueBytes, value.size()));
  }
  const std::string hash = redisKey(identity, worker);
  const std::string seconds =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(lifetime_).count());
  // Writing the same value twice changes nothing: safe to resend.
  redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.pipeline({{"HSET", hash, key, value}, {"EXPIRE", hash, seconds}});
  });
}

std::optional<std::string> CheckpointStore::get(std::string_view identity, std::string_view worker,
                                                std::string_view key) {
  const std::string hash = redisKey(identity, worker);
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"HGET", hash, key});
  });
  if (reply.isNil()) return std::nullopt;
  return reply.text;
}

void CheckpointStore::erase(std::string_view identity, std::string_view worker) {
  const std::string hash = redisKey(identity, worker);
  redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"DEL", hash});
  });
}

}  // namespace conduit::plugin
