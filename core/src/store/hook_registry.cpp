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

namespace keys = queue::redis_keys;

// Every script that changes a hook ends by bumping the change feed in the same atomic step, so
// the feed never misses a write: the generation goes up by one, the hook's member in the changes
// set takes it as its score, and the set keeps only its newest members.
constexpr std::string_view kBumpFeed = R"lua(
local function bump_feed(generation_key, changes_key, member, kept)
  local generation = redis.call('INCR', generation_key)
  redis.call('ZADD', changes_key, generation, member)
  redis.call('ZREMRANGEBYRANK', changes_key, 0, -(tonumber(kept) + 1))
end
)lua";

std::string withFeed(std::string_view body) {
  return std::string(kBumpFeed).append(body);
}

// KEYS: hash, set, generation, changes. ARGV: repo id, the three secret field names (plain,
// encrypted, key id), the feed's member and how many changes it keeps, then field/value pairs.
// Creates only.
const RedisScript kCreateScript(withFeed(R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('SADD', KEYS[2], ARGV[1])
bump_feed(KEYS[3], KEYS[4], ARGV[5], ARGV[6])
return 1
)lua"));

// KEYS and ARGV as the create script's. Replaces the secret of an existing hook; the old
// secret's fields go first, so a plain secret never survives beside a sealed one.
const RedisScript kReplaceScript(withFeed(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('SADD', KEYS[2], ARGV[1])
bump_feed(KEYS[3], KEYS[4], ARGV[5], ARGV[6])
return 1
)lua"));

// KEYS: hash, set, generation, changes. ARGV: repo id, the feed's member, how many changes it
// keeps. A second run (the pool retries it on a fresh connection) changes nothing, and bumps
// nothing.
const RedisScript kRemoveScript(withFeed(R"lua(
local removed = redis.call('DEL', KEYS[1])
local unlisted = redis.call('SREM', KEYS[2], ARGV[1])
if removed == 1 or unlisted == 1 then bump_feed(KEYS[3], KEYS[4], ARGV[2], ARGV[3]) end
return removed
)lua"));

// The changes set's member for a hook: <provider>::<repo_id> (a repo id holds no colon).
std::string feedMember(std::string_view provider, std::string_view repo_id) {
  return std::string(provider).append("::").append(repo_id);
}

const std::string kChangesKept = std::to_string(keys::kHookChangesKept);

// How many hashes one pipelined round trip of a full reload asks for.
constexpr size_t kReadBatch = 500;

long long integerOf(const RedisValue& reply) {
  if (reply.isNil()) return 0;  // no hook was ever written by Conduit
  if (reply.type == RedisValue::Type::kInteger) return reply.integer;
  return std::stoll(reply.text);
}

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
  const std::string member = feedMember(hook.provider, hook.repo_id);
  const std::vector<std::string> sealed = secretFields(hook, secret);
  RedisArgs args = {hash,         set,          keys::kHookGeneration, keys::kHookChanges,
                    hook.repo_id, kFieldSecret, kFieldSecretEncrypted, kFieldSecretKeyId,
                    member,       kChangesKept, kFieldProvider,        hook.provider,
                    kFieldRepoId, hook.repo_id, kFieldRepoPath,        hook.repo_path};
  args.insert(args.end(), sealed.begin(), sealed.end());
  // A write is not retried: had the first attempt reached Redis, a second would report
  // "already exists" and the secret shown to nobody would be lost.
  auto reply = redis_.run(Retry::kOnce, [&](RedisConnection& c) { return script.run(c, 4, args); });
  if (reply.integer != 1) return Outcome::kAlreadyExists;
  told(hook.provider, hook.repo_id);
  return Outcome::kDone;
}

void HookRegistry::told(std::string_view provider, std::string_view repo_id) const {
  if (observer_) observer_(provider, repo_id);
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
  const std::string member = feedMember(provider, repo_id);
  auto reply = redis_.run(Retry::kIdempotent, [&](RedisConnection& c) {
    return kRemoveScript.run(
        c, 4,
        {hash, set, keys::kHookGeneration, keys::kHookChanges, repo_id, member, kChangesKept});
  });
  // Told even when there was no hash: a set member without one may have been remembered.
  told(provider, repo_id);
  return reply.integer == 1;
}

std::optional<HookWithSecret> HookRegistry::lookup(std::string_view provider,
                                                   std::string_view repo_id) {
  auto stored = read(provider, repo_id);
  if (!stored) return std::nullopt;
  if (!stored->unreadable.empty()) throw SecretUnreadable(stored->unreadable);
  return std::move(stored->hook);
}

std::optional<StoredHook> HookRegistry::read(std::string_view provider, std::string_view repo_id) {
  const std::string hash = hookKey(provider, repo_id);
  auto reply = redis_.run(Retry::kIdempotent, [&](RedisConnection& c) {
    return c.command({"HGETALL", hash});
  });
  return decode(provider, repo_id, reply);
}

std::optional<StoredHook> HookRegistry::decode(std::string_view provider, std::string_view repo_id,
                                               const RedisValue& hash) const {
  auto fields = toMap(hash);
  if (fields.empty()) return std::nullopt;
  StoredHook stored{
      {Hook{std::string(provider), std::string(repo_id), fields[std::string(kFieldRepoPath)]}, ""},
      ""};

  auto sealed = fields.find(kFieldSecretEncrypted);
  if (sealed != fields.end()) {
    auto key_id = fields.find(kFieldSecretKeyId);
    std::string stored_key_id = key_id == fields.end() ? "" : key_id->second;
    if (!secret_box_) {
      stored.unreadable = fmt::format(
          "the secret of hook {}/{} is encrypted (key id {}) but no secret_key is configured",
          provider, repo_id, stored_key_id);
      return stored;
    }
    auto plain =
        secret_box_->open({stored_key_id, sealed->second}, associatedData(provider, repo_id));
    if (!plain) {
      stored.unreadable = fmt::format(
          "the secret of hook {}/{} does not decrypt: it was sealed with key id {}, the "
          "configured secret_key has key id {}{}",
          provider, repo_id, stored_key_id, secret_box_->keyId(),
          stored_key_id == secret_box_->keyId() ? " (same key: the stored value was altered)" : "");
      return stored;
    }
    stored.hook.secret = std::move(*plain);
    return stored;
  }
  auto plain = fields.find(kFieldSecret);
  if (plain == fields.end()) {
    stored.unreadable = fmt::format("hook {}/{} has no secret field", provider, repo_id);
    return stored;
  }
  stored.hook.secret = plain->second;
  return stored;
}

void HookRegistry::readEach(RedisConnection& connection,
                            const std::vector<std::pair<std::string, std::string>>& ids,
                            std::vector<StoredHook>& present,
                            std::vector<std::pair<std::string, std::string>>* removed) const {
  for (size_t first = 0; first < ids.size(); first += kReadBatch) {
    const size_t last = std::min(ids.size(), first + kReadBatch);
    std::vector<std::string> hashes;
    hashes.reserve(last - first);
    for (size_t i = first; i < last; ++i)
      hashes.push_back(hookKey(ids[i].first, ids[i].second));
    std::vector<RedisArgs> commands;
    commands.reserve(hashes.size());
    for (const auto& hash : hashes)
      commands.push_back({"HGETALL", hash});
    auto replies = connection.pipeline(commands);
    for (size_t i = first; i < last; ++i) {
      auto stored = decode(ids[i].first, ids[i].second, replies[i - first]);
      if (stored) {
        present.push_back(std::move(*stored));
      } else if (removed != nullptr) {
        removed->push_back(ids[i]);
      }
    }
  }
}

HookSnapshot HookRegistry::readAll(const std::vector<std::string>& providers) {
  return redis_.run(Retry::kIdempotent, [&](RedisConnection& c) {
    HookSnapshot snapshot;
    // The generation first: a change made while the hooks are read is then seen again by the
    // next poll, never missed.
    snapshot.generation = integerOf(c.command({"GET", keys::kHookGeneration}));
    std::vector<std::string> sets;
    for (const auto& provider : providers)
      sets.push_back(providerSetKey(provider));
    std::vector<RedisArgs> commands;
    for (const auto& set : sets)
      commands.push_back({"SMEMBERS", set});
    auto members = c.pipeline(commands);
    std::vector<std::pair<std::string, std::string>> ids;
    for (size_t p = 0; p < providers.size(); ++p) {
      for (const auto& member : members[p].elements)
        ids.emplace_back(providers[p], member.text);
    }
    // A set member whose hash is gone is no hook: it is left out.
    readEach(c, ids, snapshot.hooks, nullptr);
    return snapshot;
  });
}

std::optional<HookChanges> HookRegistry::changesSince(long long generation) {
  return redis_.run(Retry::kIdempotent, [&](RedisConnection& c) -> std::optional<HookChanges> {
    HookChanges changes;
    changes.generation = integerOf(c.command({"GET", keys::kHookGeneration}));
    if (changes.generation == generation) return std::nullopt;
    if (changes.generation < generation) {
      changes.complete = false;
      return changes;
    }
    const std::string after = fmt::format("({}", generation);
    auto replies = c.pipeline({{"ZRANGEBYSCORE", keys::kHookChanges, after, "+inf"},
                               {"ZCARD", keys::kHookChanges},
                               {"ZRANGE", keys::kHookChanges, "0", "0", "WITHSCORES"}});
    // The set only ever loses members by the trim, and only once it is full: then, if its oldest
    // score is past the first change we need, changes we need may have been trimmed away.
    const auto& oldest = replies[2].elements;
    if (replies[1].integer >= keys::kHookChangesKept && oldest.size() == 2 &&
        std::stoll(oldest[1].text) > generation + 1) {
      changes.complete = false;
      return changes;
    }
    std::vector<std::pair<std::string, std::string>> ids;
    for (const auto& member : replies[0].elements) {
      const auto separator = member.text.find("::");
      if (separator == std::string::npos) continue;  // not written by Conduit: nothing to read
      ids.emplace_back(member.text.substr(0, separator), member.text.substr(separator + 2));
    }
    readEach(c, ids, changes.present, &changes.removed);
    return changes;
  });
}

}  // namespace conduit::store
