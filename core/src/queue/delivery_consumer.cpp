#include "queue/delivery_consumer.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "queue/delivery_queue.hpp"
#include "store/redis_script.hpp"

namespace conduit::queue {
namespace {

namespace keys = redis_keys;

// The ownership test of every script below that acts on an entry as this consumer's. KEYS[1]:
// the stream, KEYS[2]: the consumer name's lease. ARGV[1]: group, ARGV[2]: consumer name,
// ARGV[3]: the lease's token field, ARGV[4]: this process's token ('' when no lease is
// checked). The entry must be pending for this consumer name, and the name must not be held by
// another process: a process that stalled past its lease while another started under its name
// shares that one's pending list, which XPENDING alone cannot tell apart. A lease that expired
// with no one taking it leaves the name to this process.
const std::string kOwnership = R"lua(
local function nameIsOurs()
  if ARGV[4] == '' then return true end
  local holder = redis.call('HGET', KEYS[2], ARGV[3])
  return not holder or holder == ARGV[4]
end
local function owns(entry_id)
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entry_id, entry_id, 1)
  return pending[1] ~= nil and pending[1][2] == ARGV[2]
end
)lua";

// ARGV from 5: entry ids. Claims each id back to the consumer (which resets its idle time) only
// while the consumer still owns it; returns the ids it does not.
const store::RedisScript kKeepHoldingScript(kOwnership + R"lua(
local lost = {}
local ours = nameIsOurs()
for i = 5, #ARGV do
  if ours and owns(ARGV[i]) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
)lua");

// ARGV[5]: entry id. 1 when the entry is this consumer's, 0 otherwise.
const store::RedisScript kOwnsScript(kOwnership + R"lua(
if nameIsOurs() and owns(ARGV[5]) then return 1 end
return 0
)lua");

// KEYS[3]: progress hash. ARGV[5]: entry id, ARGV[6]: lifetime in seconds, then field/value
// pairs. Writes them only while the entry is this consumer's (returns 1; 0 otherwise): a
// process that stalled and lost the delivery to another must not write over that one's
// progress.
const store::RedisScript kWriteProgressScript(kOwnership + R"lua(
if not (nameIsOurs() and owns(ARGV[5])) then return 0 end
redis.call('HSET', KEYS[3], unpack(ARGV, 7))
redis.call('EXPIRE', KEYS[3], ARGV[6])
return 1
)lua");

// KEYS[3]: dead-letter stream, KEYS[4]: progress hash, then checkpoint hashes. ARGV[5]: entry
// id, then attempts, now (Unix ms), checkpoint lifetime in seconds, the dead-letter field
// names (entry, worker, error, attempts, failed_at_ms: ARGV[9] to ARGV[13]), the delivery log's
// record key prefix, the record's entry and payload fields, the entry's provider, repo_id,
// delivery and payload fields (ARGV[14] to ARGV[20]), then (worker, error) pairs. The delivery
// log record gets the payload here, when the entry leaves the stream, not at enqueue (where
// the copy was a third of Redis's work per delivery): a replay after the entry is gone finds it
// there; only a record that follows this entry ('' too: being queued) is written. Does nothing
// (returns 0) unless the entry is this consumer's: one that lost it to another consumer must not
// end it under that one, and a second run after a lost reply changes nothing. The dead letters copy
// the entry's own fields, so the payload is not sent back and forth. The checkpoints are kept, for
// a replay of the same delivery, and expire. The dead letters are written first: a script is not
// undone when a command in it fails, and XADD is refused when Redis is out of memory (noeviction)
// where XACK is not, so acknowledging first would lose the delivery with its dead letter unwritten.
// Refused, it changes nothing and the worker tries again.
const store::RedisScript kFinishScript(kOwnership + R"lua(
if not (nameIsOurs() and owns(ARGV[5])) then return 0 end
local found = redis.call('XRANGE', KEYS[1], ARGV[5], ARGV[5])
if found[1] then
  local held = {}
  local raw = found[1][2]
  for j = 1, #raw, 2 do held[raw[j]] = raw[j + 1] end
  local provider, repo_id, delivery = held[ARGV[17]], held[ARGV[18]], held[ARGV[19]]
  local payload = held[ARGV[20]]
  if provider and repo_id and delivery and payload then
    local record = ARGV[14] .. provider .. '::' .. repo_id .. '::' .. delivery
    -- A broken record (not a hash) never holds a delivery back.
    if redis.call('TYPE', record).ok == 'hash' then
      local entry = redis.call('HGET', record, ARGV[15])
      if entry == ARGV[5] or entry == '' then redis.call('HSET', record, ARGV[16], payload) end
    end
  end
  if #ARGV > 20 then
    for i = 21, #ARGV, 2 do
      local fields = {}
      for _, value in ipairs(found[1][2]) do fields[#fields + 1] = value end
      for _, value in ipairs({ARGV[9], ARGV[5], ARGV[10], ARGV[i], ARGV[11], ARGV[i + 1],
                              ARGV[12], ARGV[6], ARGV[13], ARGV[7]}) do
        fields[#fields + 1] = value
      end
      redis.call('XADD', KEYS[3], '*', unpack(fields))
    end
  end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[5])
redis.call('XDEL', KEYS[1], ARGV[5])
redis.call('DEL', KEYS[4])
for i = 5, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[8]) end
return 1
)lua");

// KEYS: stream. ARGV: group, least idle time (ms), consumer-key prefix, this consumer's name.
// Removes from the group the consumers that hold nothing, have not been heard of for that long
// and have no live process (no consumer key); returns their names. Checked and removed in one
// step: removing a consumer drops what it holds.
const store::RedisScript kRemoveGoneScript(R"lua(
local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
local removed = {}
if type(consumers) ~= 'table' or consumers.err then return removed end
for _, consumer in ipairs(consumers) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2]) and info['name'] ~= ARGV[4]
      and redis.call('EXISTS', ARGV[3] .. info['name']) == 0 then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed[#removed + 1] = info['name']
  end
end
return removed
)lua");

std::string seconds(std::chrono::seconds duration) {
  return std::to_string(duration.count());
}

int64_t toInteger(std::string_view text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// [id, [field, value, ...]]; the field list is nil for an entry deleted since it was read.
std::optional<QueuedDelivery> parseEntry(const store::RedisValue& entry) {
  if (entry.elements.size() != 2 || entry.elements[1].type != store::RedisValue::Type::kArray) {
    return std::nullopt;
  }
  QueuedDelivery delivery;
  delivery.entry_id = entry.elements[0].text;
  const auto& fields = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    std::string_view name = fields[i].text;
    std::string value = fields[i + 1].text;
    if (name == keys::entry::kSchema)
      delivery.schema = std::move(value);
    else if (name == keys::entry::kProvider)
      delivery.provider = std::move(value);
    else if (name == keys::entry::kRepoId)
      delivery.repo_id = std::move(value);
    else if (name == keys::entry::kRepoPath)
      delivery.repo_path = std::move(value);
    else if (name == keys::entry::kEvent)
      delivery.event = std::move(value);
    else if (name == keys::entry::kDelivery)
      delivery.delivery_id = std::move(value);
    else if (name == keys::entry::kReceivedAtMs)
      delivery.received_at_ms = toInteger(value);
    else if (name == keys::entry::kPayload)
      delivery.payload = std::move(value);
  }
  return delivery;
}

// The entries of a list of [id, fields] pairs; `deleted` gets the ids whose entry is gone.
std::vector<QueuedDelivery> parseEntries(const store::RedisValue& list,
                                         std::vector<std::string>* deleted = nullptr) {
  std::vector<QueuedDelivery> entries;
  for (const auto& entry : list.elements) {
    if (auto delivery = parseEntry(entry)) {
      entries.push_back(std::move(*delivery));
    } else if (deleted != nullptr && !entry.elements.empty()) {
      deleted->push_back(entry.elements[0].text);
    }
  }
  return entries;
}

// XREADGROUP's reply: [[stream, [[id, fields], ...]]], or nil when nothing came.
const store::RedisValue* streamEntries(const store::RedisValue& reply) {
  if (reply.elements.empty() || reply.elements[0].elements.size() != 2) return nullptr;
  return &reply.elements[0].elements[1];
}

}  // namespace

DeliveryConsumer::DeliveryConsumer(store::RedisPool& redis, std::string consumer_name,
                                   std::chrono::hours checkpoint_lifetime, std::string lease_token)
    : redis_(redis),
      consumer_(std::move(consumer_name)),
      lease_key_(keys::consumerKey(consumer_)),
      lease_token_(std::move(lease_token)),
      checkpoint_lifetime_(checkpoint_lifetime) {}

store::RedisArgs DeliveryConsumer::ownershipArgs(const std::string& third_key) const {
  store::RedisArgs args = {QueueNames::kStream, lease_key_};
  if (!third_key.empty()) args.push_back(third_key);
  args.insert(args.end(), {QueueNames::kGroup, consumer_, keys::consumer::kToken, lease_token_});
  return args;
}

std::string DeliveryConsumer::progressKey(std::string_view entry_id) {
  return keys::progressKey(entry_id);
}

std::vector<QueuedDelivery> DeliveryConsumer::readNew(store::RedisConnection& connection, int count,
                                                      std::chrono::milliseconds block) {
  const std::string count_text = std::to_string(count);
  const std::string block_text = std::to_string(block.count());
  auto reply =
      connection.command({"XREADGROUP", "GROUP", QueueNames::kGroup, consumer_, "COUNT", count_text,
                          "BLOCK", block_text, "STREAMS", QueueNames::kStream, ">"});
  const auto* entries = streamEntries(reply);
  return entries ? parseEntries(*entries) : std::vector<QueuedDelivery>{};
}

PendingPage DeliveryConsumer::readOwnPending(int count, const std::string& after) {
  const std::string count_text = std::to_string(count);
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"XREADGROUP", "GROUP", QueueNames::kGroup, consumer_, "COUNT", count_text,
                      "STREAMS", QueueNames::kStream, after});
  });
  PendingPage page;
  const auto* list = streamEntries(reply);
  if (list == nullptr || list->elements.empty()) return page;
  page.last_id =
      list->elements.back().elements.empty() ? "" : list->elements.back().elements[0].text;
  std::vector<std::string> deleted;
  page.entries = parseEntries(*list, &deleted);
  forget(deleted);  // deleted by whoever finished them
  return page;
}

void DeliveryConsumer::forget(const std::vector<std::string>& deleted_ids) {
  if (deleted_ids.empty()) return;
  store::RedisArgs ack = {"XACK", QueueNames::kStream, QueueNames::kGroup};
  ack.insert(ack.end(), deleted_ids.begin(), deleted_ids.end());
  redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) { return c.command(ack); });
}

ClaimResult DeliveryConsumer::claimIdle(std::chrono::milliseconds min_idle, int count,
                                        const std::string& cursor) {
  const std::string idle_text = std::to_string(min_idle.count());
  const std::string count_text = std::to_string(count);
  // Not idempotent in effect (it moves entries), but a second run only claims what the first
  // left: safe to resend.
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"XAUTOCLAIM", QueueNames::kStream, QueueNames::kGroup, consumer_, idle_text,
                      cursor, "COUNT", count_text});
  });
  ClaimResult result;
  result.next_cursor = reply.elements.empty() ? "0-0" : reply.elements[0].text;
  std::vector<std::string> deleted;
  if (reply.elements.size() >= 2) result.entries = parseEntries(reply.elements[1], &deleted);
  // Redis 6.2 claims entries deleted meanwhile (with no fields) instead of dropping them, as 7
  // does: nothing is left of them to process.
  forget(deleted);
  return result;
}

std::vector<std::string> DeliveryConsumer::keepHolding(const std::vector<std::string>& entry_ids) {
  if (entry_ids.empty()) return {};
  store::RedisArgs args = ownershipArgs();
  args.insert(args.end(), entry_ids.begin(), entry_ids.end());
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kKeepHoldingScript.run(c, 2, args);
  });
  std::vector<std::string> lost;
  for (const auto& id : reply.elements)
    lost.push_back(id.text);
  return lost;
}

std::optional<QueuedDelivery> DeliveryConsumer::fetch(const std::string& entry_id) {
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"XRANGE", QueueNames::kStream, entry_id, entry_id});
  });
  if (reply.elements.empty()) return std::nullopt;
  return parseEntry(reply.elements[0]);
}

DeliveryProgress DeliveryConsumer::loadProgress(const std::string& entry_id) {
  namespace field = keys::progress;
  const std::string key = progressKey(entry_id);
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"HGETALL", key});
  });
  DeliveryProgress progress;
  const auto& fields = reply.elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    std::string_view name = fields[i].text;
    const std::string& value = fields[i + 1].text;
    if (name == field::kAttempts)
      progress.attempts = static_cast<int>(toInteger(value));
    else if (name == field::kStarted)
      progress.started = static_cast<int>(toInteger(value));
    else if (name == field::kDueMs)
      progress.due_ms = toInteger(value);
    else if (name == field::kLastError)
      progress.last_error = value;
    else if (name.substr(0, field::kOkPrefix.size()) == field::kOkPrefix)
      progress.done.insert(std::string(name.substr(field::kOkPrefix.size())));
    else if (name.substr(0, field::kFailedPrefix.size()) == field::kFailedPrefix)
      progress.failed[std::string(name.substr(field::kFailedPrefix.size()))] = value;
  }
  return progress;
}

bool DeliveryConsumer::writeProgress(const std::string& entry_id,
                                     const std::vector<std::string>& fields) {
  const std::string key = progressKey(entry_id);
  const std::string lifetime = seconds(keys::kProgressLifetime);
  store::RedisArgs args = ownershipArgs(key);
  args.push_back(entry_id);
  args.push_back(lifetime);
  args.insert(args.end(), fields.begin(), fields.end());
  // The fields only ever grow or move forward: sending the same write twice changes nothing.
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kWriteProgressScript.run(c, 3, args);
  });
  return reply.integer == 1;
}

bool DeliveryConsumer::markStarted(const std::string& entry_id, int attempt) {
  return writeProgress(entry_id, {std::string(keys::progress::kStarted), std::to_string(attempt)});
}

bool DeliveryConsumer::saveProgress(const std::string& entry_id, const DeliveryProgress& progress) {
  namespace field = keys::progress;
  std::vector<std::string> fields = {
      std::string(field::kAttempts),  std::to_string(progress.attempts),
      std::string(field::kStarted),   std::to_string(std::max(progress.started, progress.attempts)),
      std::string(field::kDueMs),     std::to_string(progress.due_ms),
      std::string(field::kLastError), progress.last_error};
  for (const auto& worker : progress.done) {
    fields.push_back(std::string(field::kOkPrefix) + worker);
    fields.push_back("1");
  }
  for (const auto& [worker, error] : progress.failed) {
    fields.push_back(std::string(field::kFailedPrefix) + worker);
    fields.push_back(error);
  }
  return writeProgress(entry_id, fields);
}

bool DeliveryConsumer::owns(const std::string& entry_id) {
  store::RedisArgs args = ownershipArgs();
  args.push_back(entry_id);
  auto reply = redis_.run(store::Retry::kIdempotent,
                          [&](store::RedisConnection& c) { return kOwnsScript.run(c, 2, args); });
  return reply.integer == 1;
}

bool DeliveryConsumer::finish(const std::string& entry_id,
                              const std::vector<FailedWorker>& dead_letters, int attempts,
                              const std::vector<std::string>& checkpoint_keys) {
  namespace letter_field = keys::dead_letter;
  const std::string progress = progressKey(entry_id);
  const std::string attempts_text = std::to_string(attempts);
  const std::string now = std::to_string(unixTimeMs());
  const std::string lifetime = seconds(checkpoint_lifetime_);
  store::RedisArgs args = {QueueNames::kStream, lease_key_, kDeadLetterStream, progress};
  args.insert(args.end(), checkpoint_keys.begin(), checkpoint_keys.end());
  const size_t key_count = args.size();
  args.insert(args.end(), {QueueNames::kGroup,
                           consumer_,
                           keys::consumer::kToken,
                           lease_token_,
                           entry_id,
                           attempts_text,
                           now,
                           lifetime,
                           letter_field::kEntry,
                           letter_field::kWorker,
                           letter_field::kError,
                           letter_field::kAttempts,
                           letter_field::kFailedAtMs,
                           keys::kLogPrefix,
                           keys::record::kEntry,
                           keys::record::kPayload,
                           keys::entry::kProvider,
                           keys::entry::kRepoId,
                           keys::entry::kDelivery,
                           keys::entry::kPayload});
  for (const auto& letter : dead_letters) {
    args.push_back(letter.worker);
    args.push_back(letter.error);
  }
  // Safe to resend: a second run finds the entry no longer pending and does nothing.
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kFinishScript.run(c, key_count, args);
  });
  return reply.integer == 1;
}

std::vector<std::string> DeliveryConsumer::removeGoneConsumers(std::chrono::milliseconds min_idle) {
  const std::string idle = std::to_string(min_idle.count());
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kRemoveGoneScript.run(
        c, 1, {QueueNames::kStream, QueueNames::kGroup, idle, keys::kConsumerPrefix, consumer_});
  });
  std::vector<std::string> removed;
  for (const auto& name : reply.elements)
    removed.push_back(name.text);
  return removed;
}

int64_t DeliveryConsumer::deliveryCount(const std::string& entry_id) {
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command(
        {"XPENDING", QueueNames::kStream, QueueNames::kGroup, entry_id, entry_id, "1"});
  });
  if (reply.elements.empty() || reply.elements[0].elements.size() < 4) return 0;
  return reply.elements[0].elements[3].integer;
}

}  // namespace conduit::queue
