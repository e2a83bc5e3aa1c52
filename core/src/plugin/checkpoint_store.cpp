#include "plugin/checkpoint_store.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace conduit::plugin {
namespace {

constexpr std::string_view kLifetimeSeconds = "2592000";  // 30 days

}  // namespace

CheckpointStore::CheckpointStore(store::RedisPool& redis) : redis_(redis) {}

std::string CheckpointStore::redisKey(std::string_view entry_id, std::string_view worker) {
  return fmt::format("conduit::checkpoints::{}::{}", entry_id, worker);
}

void CheckpointStore::put(std::string_view entry_id, std::string_view worker, std::string_view key,
                          std::string_view value) {
  if (key.empty() || key.size() > kMaxKeyBytes) {
    throw std::invalid_argument(
        fmt::format("a checkpoint key is 1 to {} bytes, not {}", kMaxKeyBytes, key.size()));
  }
  if (value.size() > kMaxValueBytes) {
    throw std::invalid_argument(fmt::format("a checkpoint value is at most {} bytes, not {}",
                                            kMaxValueBytes, value.size()));
  }
  const std::string hash = redisKey(entry_id, worker);
  // Writing the same value twice changes nothing: safe to resend.
  redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.pipeline({{"HSET", hash, key, value}, {"EXPIRE", hash, kLifetimeSeconds}});
  });
}

std::optional<std::string> CheckpointStore::get(std::string_view entry_id, std::string_view worker,
                                                std::string_view key) {
  const std::string hash = redisKey(entry_id, worker);
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"HGET", hash, key});
  });
  if (reply.isNil()) return std::nullopt;
  return reply.text;
}

void CheckpointStore::erase(std::string_view entry_id, std::string_view worker) {
  const std::string hash = redisKey(entry_id, worker);
  redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"DEL", hash});
  });
}

}  // namespace conduit::plugin
