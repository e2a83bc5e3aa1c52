#pragma once

#include <optional>
#include <string_view>

#include "store/hook_registry.hpp"

namespace conduit::store {

// The registry as the payload route reads it: every hook and its secret (decrypted once) held in
// memory by each server process, so that a delivery costs no Redis round trip to find its hook,
// and deliveries of known hooks are still checked while Redis is away. Kept current by a change
// feed (docs/queue.md, "The hook registry's change feed"): a register, update, import or delete
// made through any server reaches every other within a second.
//
// Thread-safe: every HTTP thread reads it at once.
class HookCache {
 public:
  explicit HookCache(HookRegistry& registry);

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

 private:
  HookRegistry& registry_;
};

}  // namespace conduit::store
