#include "plugin/lease_store.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "queue/redis_keys.hpp"
#include "store/redis_script.hpp"

namespace conduit::plugin {
namespace {

// Takes the lease, or finds it already ours (a resend after a lost reply): 0. Otherwise the
// milliseconds its holder keeps it for yet, at least 1.
const store::RedisScript kAcquireScript(R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 1 then return 1 end
return left
)lua");

const store::RedisScript kExtendScript(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
)lua");

const store::RedisScript kReleaseScript(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");

// Between two tries of a lease another holds: short at first, since leases are usually held
// for the few hundred milliseconds of a Jira call or two, then no more often than this.
constexpr std::chrono::milliseconds kFirstPause{10};
constexpr std::chrono::milliseconds kMaxPause{250};

// 128 random bits as hex: a token nobody else holds.
std::string newToken() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", random(), random());
}

}  // namespace

LeaseStore::LeaseStore(store::RedisPool& redis) : redis_(redis) {}

std::string LeaseStore::redisKey(std::string_view worker, std::string_view name) {
  return queue::redis_keys::leaseKey(worker, name);
}

std::optional<std::string> LeaseStore::acquire(std::string_view worker, std::string_view name,
                                               std::chrono::milliseconds ttl,
                                               std::chrono::milliseconds wait) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    throw std::invalid_argument(
        fmt::format("a lease name is 1 to {} bytes, not {}", kMaxNameBytes, name.size()));
  }
  if (ttl.count() < 1 || ttl > kMaxTtl) {
    throw std::invalid_argument(
        fmt::format("a lease's ttl is 1 to {} ms, not {}", kMaxTtl.count(), ttl.count()));
  }
  if (wait.count() < 0 || wait > kMaxWait) {
    throw std::invalid_argument(
        fmt::format("a lease's wait is 0 to {} ms, not {}", kMaxWait.count(), wait.count()));
  }
  const std::string key = redisKey(worker, name);
  const std::string token = newToken();
  const std::string ttl_text = std::to_string(ttl.count());
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto pause = kFirstPause;
  thread_local std::mt19937 jitter{std::random_device{}()};
  while (true) {
    // Running it twice is harmless: the second run finds the lease ours.
    const auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
      return kAcquireScript.run(c, 1, {key, token, ttl_text});
    });
    if (reply.integer == 0) return token;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    // Try again when the holder's lease would end, or sooner; with jitter, so that waiters
    // woken together do not collide again and again.
    const auto left = std::chrono::milliseconds(std::max<long long>(1, reply.integer));
    auto sleep = std::min(
        {pause, left, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)});
    sleep = std::max(std::chrono::milliseconds(1),
                     sleep - std::chrono::milliseconds(jitter() % (sleep.count() / 2 + 1)));
    std::this_thread::sleep_for(sleep);
    pause = std::min(kMaxPause, pause * 2);
  }
}

bool LeaseStore::extend(std::string_view worker, std::string_view name, std::string_view token,
                        std::chrono::milliseconds ttl) {
  if (ttl.count() < 1 || ttl > kMaxTtl) {
    throw std::invalid_argument(
        fmt::format("a lease's ttl is 1 to {} ms, not {}", kMaxTtl.count(), ttl.count()));
  }
  const std::string key = redisKey(worker, name);
  const std::string ttl_text = std::to_string(ttl.count());
  // Running it twice is harmless: the second run sets the same expiry again.
  const auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kExtendScript.run(c, 1, {key, token, ttl_text});
  });
  return reply.integer == 1;
}

bool LeaseStore::release(std::string_view worker, std::string_view name, std::string_view token) {
  const std::string key = redisKey(worker, name);
  const auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kReleaseScript.run(c, 1, {key, token});
  });
  return reply.integer == 1;
}

}  // namespace conduit::plugin
