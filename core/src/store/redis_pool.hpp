#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "config/redis_url.hpp"
#include "store/redis_connection.hpp"

namespace conduit::store {

// Whether a call may be sent a second time, on a fresh connection, when a pooled connection
// turns out to be dead (Redis restarted since it was last used). Only for calls whose second
// run cannot do harm: reads, and writes guarded so that running twice changes nothing.
enum class Retry { kIdempotent, kOnce };

// Blocking connections shared by the HTTP threads: each call leases one, so no two threads
// share a connection, and the pool grows to the number of threads that call at once.
class RedisPool {
 public:
  RedisPool(config::RedisEndpoint endpoint, std::chrono::milliseconds timeout);

  // Runs `call(RedisConnection&)` on a leased connection and returns its result. A connection
  // that breaks is thrown away with every idle one (they most likely broke with it).
  template <typename Call>
  auto run(Retry retry, Call&& call) {
    {
      Lease lease(*this);
      try {
        return call(*lease.connection);
      } catch (const RedisUnavailable&) {
        discardIdle();
        if (retry != Retry::kIdempotent || !lease.reused) throw;
      }
    }
    Lease fresh(*this);
    return call(*fresh.connection);
  }

  const config::RedisEndpoint& endpoint() const { return endpoint_; }

  // PING: returns when Redis answers, throws RedisUnavailable or RedisError otherwise.
  void ping();

 private:
  // A connection taken from the pool, given back when done unless it broke.
  struct Lease {
    explicit Lease(RedisPool& pool);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    RedisPool& pool;
    std::unique_ptr<RedisConnection> connection;
    bool reused = false;
  };

  void discardIdle();

  config::RedisEndpoint endpoint_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
};

}  // namespace conduit::store
