#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/hook_registry.hpp"

namespace conduit::store {

// How the registry in memory keeps current; the defaults are the documented behaviour
// (docs/operations.md, "Several servers"), the tests shorten them.
struct HookCacheOptions {
  // How often the change feed's generation is read.
  std::chrono::milliseconds poll_interval{250};
  // How often everything is read again, for writes that bump no generation (the original
  // service's).
  std::chrono::milliseconds reload_interval{60'000};
  // How long "no such hook" is remembered, and for how many hooks at most.
  std::chrono::milliseconds miss_memory{1'000};
  size_t max_misses = 10'000;
  // How often one hook's secret may be read again after a signature that did not match, and for
  // how many hooks at most that is remembered.
  std::chrono::milliseconds recheck_interval{1'000};
  size_t max_rechecks = 10'000;
};

// The registry as the payload route reads it: every hook and its secret (decrypted once) held in
// memory by each server process, so that a delivery costs no Redis round trip to find its hook,
// and deliveries of known hooks are still checked while Redis is away. Kept current by a change
// feed (docs/queue.md, "The hook registry's change feed"): a register, update, import or delete
// made through any server reaches every other within a second.
//
// Thread-safe: every HTTP thread reads it at once, under a shared lock held only for a map
// look-up; the poller's thread and the misses take the lock exclusively.
class HookCache {
 public:
  // `providers`: every provider whose hooks are loaded whole (their sets providers::<p>).
  HookCache(HookRegistry& registry, std::vector<std::string> providers,
            HookCacheOptions options = {});
  ~HookCache();
  HookCache(const HookCache&) = delete;
  HookCache& operator=(const HookCache&) = delete;

  // The hook with its secret: from memory when held; otherwise looked up in Redis (a hook the
  // original service wrote into the same Redis, or one registered a moment ago through another
  // server) and remembered. nullopt when Redis has no such hook. Throws RedisUnavailable when
  // the memory does not hold it and Redis cannot answer, SecretUnreadable as the registry does.
  std::optional<HookWithSecret> lookup(std::string_view provider, std::string_view repo_id);

  // After a signature that failed against `hook`'s remembered secret: the hook as Redis holds it
  // now, when its secret differs (another writer changed it) — at most once a second per hook, so
  // that bad signatures cannot turn into Redis load. nullopt when it is unchanged, gone, not
  // checked this time, or Redis cannot answer.
  std::optional<HookWithSecret> recheck(const HookWithSecret& hook);

  // Loads the registry (not fatal when Redis cannot answer: the poller loads it when Redis does)
  // and starts the poller's thread.
  void start();
  // Stops the poller's thread: at once, or after the Redis call it is in (redis_timeout_ms).
  void stop();

  // One poll: reads the change feed and applies what it says, or reloads everything when it is
  // time to or the feed cannot say what changed. Never throws; false when Redis could not be
  // read. The poller's thread calls it; tests call it to step without waiting.
  bool refresh();

  // How many hooks the memory holds (the unreadable ones included).
  size_t size() const;

 private:
  // A hook as remembered: its secret, or why it cannot be read.
  using Entry = StoredHook;
  // One provider's hooks by repo id; the key views the entry's own repo id.
  using ProviderHooks = std::unordered_map<std::string_view, std::shared_ptr<const Entry>>;
  using Clock = std::chrono::steady_clock;

  static std::string keyOf(std::string_view provider, std::string_view repo_id);
  void reload(bool first, std::string_view why);
  void apply(const HookChanges& changes);
  // Under mutex_, exclusively.
  void putLocked(StoredHook stored);
  void eraseLocked(std::string_view provider, std::string_view repo_id);
  // A write made through this process's registry: forgotten at once, read again when asked.
  void forget(std::string_view provider, std::string_view repo_id);
  // Remembers "no such hook" unless the memory changed since `epoch` (the answer may be stale).
  void rememberMiss(const std::string& key, uint64_t epoch);
  bool recentMiss(const std::string& key);
  void pollLoop();

  HookRegistry& registry_;
  const std::vector<std::string> providers_;
  const HookCacheOptions options_;

  mutable std::shared_mutex mutex_;
  std::map<std::string, ProviderHooks, std::less<>> hooks_;  // by provider
  // Bumped, under mutex_, by every change the poller or a write applies: an answer read from
  // Redis before a change is not remembered after it.
  std::atomic<uint64_t> epoch_{0};

  // The misses and the rechecks' times, keyed <provider>::<repo_id>; off the hot path.
  std::mutex side_mutex_;
  std::unordered_map<std::string, Clock::time_point> misses_;
  std::unordered_map<std::string, Clock::time_point> rechecked_;

  // The poller's own (its thread, or refresh()'s caller when not started).
  std::mutex poll_mutex_;
  std::optional<long long> generation_;  // unset until the first load succeeds
  Clock::time_point last_reload_{};
  bool feed_failing_ = false;

  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace conduit::store
