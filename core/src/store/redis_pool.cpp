#include "store/redis_pool.hpp"

namespace conduit::store {

RedisPool::RedisPool(config::RedisEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

RedisPool::Lease::Lease(RedisPool& owner) : pool(owner) {
  {
    std::lock_guard lock(pool.mutex_);
    if (!pool.idle_.empty()) {
      connection = std::move(pool.idle_.back());
      pool.idle_.pop_back();
      reused = true;
      return;
    }
  }
  // Connect outside the lock: a slow connect must not hold up the other threads.
  connection = std::make_unique<RedisConnection>(pool.endpoint_, pool.timeout_);
}

RedisPool::Lease::~Lease() {
  if (!connection || connection->broken()) return;
  std::lock_guard lock(pool.mutex_);
  pool.idle_.push_back(std::move(connection));
}

void RedisPool::ping() {
  run(Retry::kIdempotent, [](RedisConnection& c) { return c.command({"PING"}); });
}

void RedisPool::discardIdle() {
  std::vector<std::unique_ptr<RedisConnection>> dropped;
  std::lock_guard lock(mutex_);
  dropped.swap(idle_);
}

}  // namespace conduit::store
