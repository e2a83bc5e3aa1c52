#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/secret_box.hpp"
#include "store/hook.hpp"
#include "store/redis_pool.hpp"
#include "store/redis_script.hpp"

namespace conduit::store {

// A stored secret that cannot be read: sealed with another key than the configured one, sealed
// while no `secret_key` is configured now, or altered. The operator must act; callers log this
// and answer 500 without saying more to the client.
class SecretUnreadable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HookWithSecret {
  Hook hook;
  std::string secret;
};

// A hook as Redis holds it, for the registry in memory (HookCache): with its secret, or with the
// reason its secret cannot be read, kept so that its deliveries are answered as today (500).
struct StoredHook {
  HookWithSecret hook;     // `secret` is empty when unreadable
  std::string unreadable;  // SecretUnreadable's message, or "" when the secret was read
};

// Every hook, as a full reload reads it.
struct HookSnapshot {
  long long generation = 0;  // the change feed's generation, read before the hooks
  std::vector<StoredHook> hooks;
};

// What the change feed says changed since a generation (docs/queue.md, "The hook registry's
// change feed").
struct HookChanges {
  long long generation = 0;  // the feed's generation now
  // False when the feed cannot say what changed: its generation went backwards (Redis was
  // flushed or replaced), or the changes since were trimmed away. The reader reloads everything.
  bool complete = true;
  std::vector<StoredHook> present;                           // changed hooks, as they are now
  std::vector<std::pair<std::string, std::string>> removed;  // (provider, repo id) of those gone
};

// The registry of hooks and their secrets, in the original service's Redis layout:
//   providers::<provider>            a set of repo ids
//   secrets::<provider>::<repo_id>   a hash: provider, repo_id, repo_path, and the secret
// The secret is the plain field `secret` (as the original wrote it), or, where a `secret_key` is
// configured, `secret_encrypted` and `secret_key_id` (AES-256-GCM). Plain secrets the original
// wrote are still read. Each change is one Lua script, so the set and the hash never disagree;
// the same script bumps the change feed (conduit::hooks::generation, conduit::hooks::changes) by
// which every server keeps its memory of the registry current.
class HookRegistry {
 public:
  enum class Outcome { kDone, kAlreadyExists, kNotFound };
  // Told of each hook this registry created, replaced or removed, right after Redis has it.
  using WriteObserver = std::function<void(std::string_view provider, std::string_view repo_id)>;

  HookRegistry(RedisPool& redis, std::optional<crypto::SecretBox> secret_box);

  // Adds a hook with its secret; kAlreadyExists if the provider already has that repo id.
  Outcome create(const Hook& hook, std::string_view secret);

  // Replaces an existing hook's secret (and repo path); kNotFound if there is no such hook.
  Outcome replaceSecret(const Hook& hook, std::string_view secret);

  std::optional<Hook> find(std::string_view provider, std::string_view repo_id);

  // Every hook of a provider, sorted by repo id.
  std::vector<Hook> list(std::string_view provider);

  // Deletes a hook; false if there was none.
  bool remove(std::string_view provider, std::string_view repo_id);

  // The hook with its secret, for checking a delivery's signature, in one round trip; nullopt
  // if there is no such hook. Throws SecretUnreadable (see above) and RedisUnavailable.
  std::optional<HookWithSecret> lookup(std::string_view provider, std::string_view repo_id);

  // As lookup, but a secret that cannot be read is told in the result rather than thrown.
  std::optional<StoredHook> read(std::string_view provider, std::string_view repo_id);

  // Every hook of each of `providers`: the feed's generation, then each provider's set, then the
  // hashes, pipelined. Throws RedisUnavailable.
  HookSnapshot readAll(const std::vector<std::string>& providers);

  // The hooks changed since `generation`, as they are now; nullopt when the feed's generation is
  // still `generation` (one GET: the cost of a poll that finds nothing). Throws RedisUnavailable.
  std::optional<HookChanges> changesSince(long long generation);

  // Set once, before any thread writes through this registry.
  void setWriteObserver(WriteObserver observer) { observer_ = std::move(observer); }

 private:
  // The hash fields holding `secret`, sealed where a key is configured.
  std::vector<std::string> secretFields(const Hook& hook, std::string_view secret) const;
  Outcome write(const RedisScript& script, const Hook& hook, std::string_view secret);
  // A hook's hash (HGETALL) as a StoredHook; nullopt when the hash is empty (no such hook).
  std::optional<StoredHook> decode(std::string_view provider, std::string_view repo_id,
                                   const RedisValue& hash) const;
  // The hooks named in `ids`, pipelined: each present one in `present`, the others in `removed`.
  void readEach(RedisConnection& connection,
                const std::vector<std::pair<std::string, std::string>>& ids,
                std::vector<StoredHook>& present,
                std::vector<std::pair<std::string, std::string>>* removed) const;
  void told(std::string_view provider, std::string_view repo_id) const;

  RedisPool& redis_;
  std::optional<crypto::SecretBox> secret_box_;
  WriteObserver observer_;
};

}  // namespace conduit::store
