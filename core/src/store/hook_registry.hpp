#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
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

// The registry of hooks and their secrets, in the original service's Redis layout:
//   providers::<provider>            a set of repo ids
//   secrets::<provider>::<repo_id>   a hash: provider, repo_id, repo_path, and the secret
// The secret is the plain field `secret` (as the original wrote it), or, where a `secret_key` is
// configured, `secret_encrypted` and `secret_key_id` (AES-256-GCM). Plain secrets the original
// wrote are still read. Each change is one Lua script, so the set and the hash never disagree.
class HookRegistry {
 public:
  enum class Outcome { kDone, kAlreadyExists, kNotFound };

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

 private:
  // The hash fields holding `secret`, sealed where a key is configured.
  std::vector<std::string> secretFields(const Hook& hook, std::string_view secret) const;
  Outcome write(const RedisScript& script, const Hook& hook, std::string_view secret);

  RedisPool& redis_;
  std::optional<crypto::SecretBox> secret_box_;
};

}  // namespace conduit::store
