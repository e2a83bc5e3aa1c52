#include "store/hook_cache.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace conduit::store {
namespace {

// Forgets the oldest half of a bounded map of times when it is full: a flood of distinct keys
// then costs Redis reads again, never memory.
void makeRoom(std::unordered_map<std::string, std::chrono::steady_clock::time_point>& times,
              size_t max, std::chrono::milliseconds lifetime) {
  if (times.size() < max) return;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = times.begin(); it != times.end();) {
    it = now - it->second >= lifetime ? times.erase(it) : std::next(it);
  }
  if (times.size() >= max) times.clear();
}

}  // namespace

HookCache::HookCache(HookRegistry& registry, std::vector<std::string> providers,
                     HookCacheOptions options)
    : registry_(registry), providers_(std::move(providers)), options_(options) {
  // A write through this process's own API is seen by its next lookup, not a poll later.
  registry_.setWriteObserver(
      [this](std::string_view provider, std::string_view repo_id) { forget(provider, repo_id); });
}

HookCache::~HookCache() {
  stop();
  registry_.setWriteObserver(nullptr);
}

std::string HookCache::keyOf(std::string_view provider, std::string_view repo_id) {
  return std::string(provider).append("::").append(repo_id);
}

std::optional<HookWithSecret> HookCache::lookup(std::string_view provider,
                                                std::string_view repo_id) {
  {
    std::shared_lock lock(mutex_);
    auto hooks = hooks_.find(provider);
    if (hooks != hooks_.end()) {
      auto found = hooks->second.find(repo_id);
      if (found != hooks->second.end()) {
        const Entry& entry = *found->second;
        if (!entry.unreadable.empty()) {
          std::string why = entry.unreadable;
          lock.unlock();
          throw SecretUnreadable(why);
        }
        return entry.hook;
      }
    }
  }

  // Not in memory: a hook written by another writer that bumps no feed (the original service),
  // or written a moment ago, before this server's next poll.
  const std::string key = keyOf(provider, repo_id);
  if (recentMiss(key)) return std::nullopt;
  const uint64_t epoch = epoch_.load();
  auto stored = registry_.read(provider, repo_id);  // RedisUnavailable: 503, the sender retries
  if (!stored) {
    rememberMiss(key, epoch);
    return std::nullopt;
  }
  {
    std::unique_lock lock(mutex_);
    // Not when the memory changed meanwhile: this answer may be older than the change.
    if (epoch_.load() == epoch) putLocked(*stored);
  }
  if (!stored->unreadable.empty()) throw SecretUnreadable(stored->unreadable);
  return std::move(stored->hook);
}

std::optional<HookWithSecret> HookCache::recheck(const HookWithSecret& hook) {
  const std::string key = keyOf(hook.hook.provider, hook.hook.repo_id);
  {
    std::lock_guard lock(side_mutex_);
    const auto now = Clock::now();
    auto last = rechecked_.find(key);
    if (last != rechecked_.end()) {
      if (now - last->second < options_.recheck_interval) return std::nullopt;
      last->second = now;
    } else {
      makeRoom(rechecked_, options_.max_rechecks, options_.recheck_interval);
      rechecked_.emplace(key, now);
    }
  }

  const uint64_t epoch = epoch_.load();
  std::optional<StoredHook> stored;
  try {
    stored = registry_.read(hook.hook.provider, hook.hook.repo_id);
  } catch (const std::exception& e) {
    // The remembered secret stands: the delivery is answered 401 now, and is checked again when
    // its sender retries.
    spdlog::debug("hook {}/{}: its secret not read again from Redis: {}", hook.hook.provider,
                  hook.hook.repo_id, e.what());
    return std::nullopt;
  }
  std::unique_lock lock(mutex_);
  if (!stored) {
    // Deleted by another writer: the next delivery looks it up, and is answered 404.
    eraseLocked(hook.hook.provider, hook.hook.repo_id);
    return std::nullopt;
  }
  const bool changed = stored->hook.secret != hook.secret ||
                       stored->hook.hook.repo_path != hook.hook.repo_path ||
                       !stored->unreadable.empty();
  if (changed && epoch_.load() == epoch) putLocked(*stored);
  lock.unlock();
  if (!stored->unreadable.empty() || stored->hook.secret == hook.secret) return std::nullopt;
  spdlog::info("hook {}/{}: its secret was changed in Redis by another writer; using the new one",
               hook.hook.provider, hook.hook.repo_id);
  return std::move(stored->hook);
}

void HookCache::start() {
  if (poller_.joinable()) return;
  refresh();
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = false;
  }
  poller_ = std::thread([this] { pollLoop(); });
}

void HookCache::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (poller_.joinable()) poller_.join();
}

void HookCache::pollLoop() {
  std::unique_lock lock(stop_mutex_);
  while (!stop_signal_.wait_for(lock, options_.poll_interval, [this] { return stopping_; })) {
    lock.unlock();
    refresh();
    lock.lock();
  }
}

bool HookCache::refresh() {
  std::lock_guard poll(poll_mutex_);
  try {
    if (!generation_) {
      reload(true, "");
    } else if (Clock::now() - last_reload_ >= options_.reload_interval) {
      reload(false, "");
    } else if (auto changes = registry_.changesSince(*generation_)) {
      if (changes->complete) {
        apply(*changes);
      } else {
        reload(false, changes->generation < *generation_
                          ? "its generation went backwards: Redis was flushed or replaced"
                          : "the changes since the last poll were trimmed from the feed");
      }
    }
    if (feed_failing_) {
      spdlog::info("the hook registry's change feed in Redis is readable again");
      feed_failing_ = false;
    }
    return true;
  } catch (const std::exception& e) {
    if (!feed_failing_) {
      spdlog::warn(
          "cannot read the hook registry's change feed from Redis: {}; the {} hooks in memory "
          "keep answering, others are answered 503 until Redis answers",
          e.what(), size());
      feed_failing_ = true;
    }
    return false;
  }
}

void HookCache::reload(bool first, std::string_view why) {
  HookSnapshot snapshot = registry_.readAll(providers_);
  const size_t count = snapshot.hooks.size();
  size_t unreadable = 0;
  std::map<std::string, ProviderHooks, std::less<>> fresh;
  for (auto& stored : snapshot.hooks) {
    if (!stored.unreadable.empty()) ++unreadable;
    auto entry = std::make_shared<const Entry>(std::move(stored));
    // The key views the entry's own repo id, which lives as long as the entry.
    fresh[entry->hook.hook.provider].emplace(entry->hook.hook.repo_id, entry);
  }
  {
    std::unique_lock lock(mutex_);
    hooks_.swap(fresh);
    ++epoch_;
  }
  {
    std::lock_guard lock(side_mutex_);
    misses_.clear();
  }
  generation_ = snapshot.generation;
  last_reload_ = Clock::now();
  const std::string unreadable_note =
      unreadable == 0 ? ""
                      : fmt::format(
                            " ({} with a secret that cannot be read: their deliveries "
                            "are answered 500)",
                            unreadable);
  if (first) {
    spdlog::info("hook registry loaded from Redis: {} hooks{}", count, unreadable_note);
  } else if (!why.empty()) {
    spdlog::info("hook registry reloaded from Redis, as its change feed {}: {} hooks{}", why, count,
                 unreadable_note);
  } else {
    spdlog::debug("hook registry reloaded from Redis: {} hooks{}", count, unreadable_note);
  }
}

void HookCache::apply(const HookChanges& changes) {
  {
    std::unique_lock lock(mutex_);
    for (const auto& stored : changes.present)
      putLocked(stored);
    for (const auto& [provider, repo_id] : changes.removed)
      eraseLocked(provider, repo_id);
  }
  generation_ = changes.generation;
  spdlog::debug("hook registry: {} hooks changed, {} removed (generation {})",
                changes.present.size(), changes.removed.size(), changes.generation);
}

void HookCache::putLocked(StoredHook stored) {
  auto entry = std::make_shared<const Entry>(std::move(stored));
  const std::string key = keyOf(entry->hook.hook.provider, entry->hook.hook.repo_id);
  auto& hooks = hooks_[entry->hook.hook.provider];
  hooks.erase(entry->hook.hook.repo_id);  // its key views the entry it replaces
  std::string_view repo_id = entry->hook.hook.repo_id;
  hooks.emplace(repo_id, std::move(entry));
  ++epoch_;
  std::lock_guard side(side_mutex_);
  misses_.erase(key);
}

void HookCache::eraseLocked(std::string_view provider, std::string_view repo_id) {
  auto hooks = hooks_.find(provider);
  if (hooks != hooks_.end()) hooks->second.erase(repo_id);
  ++epoch_;
  std::lock_guard side(side_mutex_);
  misses_.erase(keyOf(provider, repo_id));
}

void HookCache::forget(std::string_view provider, std::string_view repo_id) {
  std::unique_lock lock(mutex_);
  eraseLocked(provider, repo_id);
}

bool HookCache::recentMiss(const std::string& key) {
  std::lock_guard lock(side_mutex_);
  auto miss = misses_.find(key);
  if (miss == misses_.end()) return false;
  if (Clock::now() - miss->second < options_.miss_memory) return true;
  misses_.erase(miss);
  return false;
}

void HookCache::rememberMiss(const std::string& key, uint64_t epoch) {
  std::lock_guard lock(side_mutex_);
  // A hook written since the read began may be why it was not found: not remembered.
  if (epoch_.load() != epoch) return;
  makeRoom(misses_, options_.max_misses, options_.miss_memory);
  misses_[key] = Clock::now();
}

size_t HookCache::size() const {
  std::shared_lock lock(mutex_);
  size_t count = 0;
  for (const auto& [provider, hooks] : hooks_)
    count += hooks.size();
  return count;
}

}  // namespace conduit::store
