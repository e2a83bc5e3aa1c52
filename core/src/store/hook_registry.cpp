#include "store/hook_registry.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "queue/redis_keys.hpp"

namespace conduit::store {
namespace {

namespace hook_field = queue::redis_keys::hook;
constexpr std::string_view kFieldProvider = hook_field::kProvider;
constexpr std::string_view kFieldRepoId = hook_field::kRepoId;
constexpr std::string_view kFieldRepoPath = hook_field::kRepoPath;
constexpr std::string_view kFieldSecret = hook_field::kSecret;
constexpr std::string_view kFieldSecretEncrypted = hook_field::kSecretEncrypted;
constexpr std::string_view kFieldSecretKeyId = hook_field::kSecretKeyId;

// KEYS: hash, set. ARGV: repo id, the three secret field names (plain, encrypted, key id), then
// field/value pairs. Creates only.
const RedisScript kCreateScript(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
)lua");

// KEYS: hash, set. ARGV: repo id, the three secret field names, then field/value pairs.
// Replaces the secret of an existing hook; the old secret's fields go first, so a plain secret
// never survives beside a sealed one.
const RedisScript kReplaceScript(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
)lua");

// KEYS: hash, set. ARGV: repo id.
const RedisScript kRemoveScript(R"lua(
local removed = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return removed
)lua");

std::string associatedData(std::string_view provider, std::string_view repo_id) {
  return fmt::format("{}::{}", provider, repo_id);
}

// A hash reply (HGETALL) as a map; empty when the key does not exist.
std::map<std::string, std::string, std::less<>> toMap(const RedisValue& reply) {
  std::map<std::string, std::string, std::less<>> fields;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    fields.emplace(reply.elements[i].text, reply.elements[i + 1].text);
  }
  return fields;
}

}  // namespace

HookRegistry::HookRegistry(RedisPool& redis, std::optional<crypto::SecretBox> secret_box)
    : redis_(redis), secret_box_(std::move(secret_box)) {}

std::vector<std::string> HookRegistry::secretFields(const Hook& hook,
                                                    std::string_view secret) const {
  if (!secret_box_) return {std::string(kFieldSecret), std::string(secret)};
  auto sealed = secret_box_->seal(secret, associatedData(hook.provider, hook.repo_id));
  return {std::string(kFieldSecretEncrypted), std::move(sealed.ciphertext),
          std::string(kFieldSecretKeyId), std::move(sealed.key_id)};
}

HookRegistry::Outcome HookRegistry::write(const RedisScript& script, const Hook& hook,
                                          std::string_view secret) {
  const std::string hash = hookKey(hook.provider, hook.repo_id);
  const std::string set = providerSetKey(hook.provider);
  const std::vector<std::string> sealed = secretFields(hook, secret);
  RedisArgs args = {hash,
                    set,
                    hook.repo_id,
                    kFieldSecret,
                    kFieldSecretEncrypted,
                    kFieldSecretKeyId,
                    kFieldProvider,
                    hook.provider,
                    kFieldRepoId,
                    hook.repo_id,
                    kFieldRepoPath,
                    hook.repo_path};
  args.insert(args.end(), sealed.begin(), sealed.end());
  // A write is not retried: had the first attempt reached Redis, a second would report
  // "already exists" and the secret shown to nobody would be lost.
  auto reply = redis_.run(Retry::kOnce, [&](RedisConnection& c) { return script.run(c, 2, args); });
  return reply.integer == 1 ? Outcome::kDone : Outcome::kAlreadyExists;
}

HookRegistry::Outcome HookRegistry::create(const Hook& hook, std::string_view secret) {
  return write(kCreateScript, hook, secret);
}

HookRegistry::Outcome HookRegistry::replaceSecret(const Hook& hook, std::string_view secret) {
  return write(kReplaceScript, hook, secret) == Outcome::kDone ? Outcome::kDone
                                                               : Outcome::kNotFound;
}

std::optional<Hook> HookRegistry::find(std::string_view provider, std::string_view repo_id) {
  const std::string hash = hookKey(provider, repo_id);
  auto reply = redis_.run(Retry::kIdempotent, [&](RedisConnection& c) {
    return c.command({"HMGET", hash, kFieldProvider, kFieldRepoId, kFieldRepoPath});
  });
  if (reply.elements.size() != 3 || reply.elements[1].isNil()) return std::nullopt;
  return Hook{std::string(provider), reply.elements[1].text, reply.elements[2].text};
}

std::vector<Hook> HookRegistry::list(std::string_view provider) {
  const std::string set = providerSetKey(provider);
  return redis_.run(Retry::kIdempotent, [&](RedisConnection& c) {
    auto members = c.command({"SMEMBERS", set});
    std::vector<std::string> keys;
    std::vector<RedisArgs> lookups;
    keys.reserve(members.elements.size());
    for (const auto& member : members.elements)
      keys.push_back(hookKey(provider, member.text));
    for (const auto& key : keys)
      lookups.push_back({"HMGET", key, kFieldRepoId, kFieldRepoPath});

    std::vector<Hook> hooks;
    auto replies = c.pipeline(lookups);
    for (const auto& reply : replies) {
      // A set member whose hash is gone is no hook; skip it rather than invent one.
      if (reply.elements.size() != 2 || reply.elements[0].isNil()) continue;
      hooks.push_back(Hook{std::string(provider), reply.elements[0].text, reply.elements[1].text});
    }
    std::sort(hooks.begin(), hooks.end(),
              [](const Hook& a, const Hook& b) { return a.repo_id < b.repo_id; });
    return hooks;
  });
}

bool HookRegistry::remove(std::string_view provider, std::string_view repo_id) {
  const std::string hash = hookKey(provider, repo_id);
  const std::string set = providerSetKey(provider);
  auto reply = redis_.run(Retry::kIdempotent, [&](RedisConnection& c) {
    return kRemoveScript.run(c, 2, {hash, set, repo_id});
  });
  return reply.integer == 1;
}

std::optional<HookWithSecret> HookRegistry::lookup(std::string_view provider,
                                                   std::string_view repo_id) {
  const std::string hash = hookKey(provider, repo_id);
  auto reply = redis_.run(Retry::kIdempotent, [&](RedisConnection& c) {
    return c.command({"HGETALL", hash});
  });
  auto fields = toMap(reply);
  if (fields.empty()) return std::nullopt;
  Hook hook{std::string(provider), std::string(repo_id), fields[std::string(kFieldRepoPath)]};

  auto sealed = fields.find(kFieldSecretEncrypted);
  if (sealed != fields.end()) {
    auto key_id = fields.find(kFieldSecretKeyId);
    std::string stored_key_id = key_id == fields.end() ? "" : key_id->second;
    if (!secret_box_) {
      throw SecretUnreadable(fmt::format(
          "the secret of hook {}/{} is encrypted (key id {}) but no secret_key is configured",
          provider, repo_id, stored_key_id));
    }
    auto plain =
        secret_box_->open({stored_key_id, sealed->second}, associatedData(provider, repo_id));
    if (!plain) {
      throw SecretUnreadable(fmt::format(
          "the secret of hook {}/{} does not decrypt: it was sealed with key id {}, the "
          "configured secret_key has key id {}{}",
          provider, repo_id, stored_key_id, secret_box_->keyId(),
          stored_key_id == secret_box_->keyId() ? " (same key: the stored value was altered)"
                                                : ""));
    }
    return HookWithSecret{std::move(hook), std::move(*plain)};
  }
  auto plain = fields.find(kFieldSecret);
  if (plain == fields.end()) {
    throw SecretUnreadable(fmt::format("hook {}/{} has no secret field", provider, repo_id));
  }
  return HookWithSecret{std::move(hook), plain->second};
}

}  // namespace conduit::store
