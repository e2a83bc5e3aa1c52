#include "queue/delivery_consumer.hpp"

#include <charconv>

#include <fmt/format.h>

#include "queue/delivery_queue.hpp"
#include "store/redis_script.hpp"

namespace conduit::queue {
namespace {

constexpr std::string_view kProgressLifetimeSeconds = "2592000";  // 30 days, as checkpoints

// KEYS: stream. ARGV: group, consumer, entry ids. Claims each id back to the consumer (which
// resets its idle time) only while the consumer still owns it; returns the ids it does not.
const store::RedisScript kKeepHoldingScript(R"lua(
local lost = {}
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if pending[1] and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
)lua");

// KEYS: stream, dead-letter stream, then keys to delete. ARGV: group, consumer, entry id,
// attempts, now (Unix ms), then (worker, error) pairs. Does nothing (returns 0) unless the entry
// is pending for this consumer: one that lost it to another consumer must not erase that one's
// checkpoints, and a second run after a lost reply changes nothing. The dead letters copy the
// entry's own fields, so the payload is not sent back and forth.
const store::RedisScript kFinishScript(R"lua(
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
if #ARGV > 5 then
  local found = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
  if found[1] then
    for i = 6, #ARGV, 2 do
      local fields = {}
      for _, value in ipairs(found[1][2]) do fields[#fields + 1] = value end
      for _, value in ipairs({'entry', ARGV[3], 'worker', ARGV[i], 'error', ARGV[i + 1],
                              'attempts', ARGV[4], 'failed_at_ms', ARGV[5]}) do
        fields[#fields + 1] = value
      end
      redis.call('XADD', KEYS[2], '*', unpack(fields))
    end
  end
end
redis.call('XDEL', KEYS[1], ARGV[3])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
)lua");

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
    const std::string& name = fields[i].text;
    std::string value = fields[i + 1].text;
    if (name == "schema")
      delivery.schema = std::move(value);
    else if (name == "provider")
      delivery.provider = std::move(value);
    else if (name == "repo_id")
      delivery.repo_id = std::move(value);
    else if (name == "repo_path")
      delivery.repo_path = std::move(value);
    else if (name == "event")
      delivery.event = std::move(value);
    else if (name == "delivery")
      delivery.delivery_id = std::move(value);
    else if (name == "received_at_ms")
      delivery.received_at_ms = toInteger(value);
    else if (name == "payload")
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

DeliveryConsumer::DeliveryConsumer(store::RedisPool& redis, std::string consumer_name)
    : redis_(redis), consumer_(std::move(consumer_name)) {}

std::string DeliveryConsumer::progressKey(std::string_view entry_id) {
  return fmt::format("conduit::progress::{}", entry_id);
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
  store::RedisArgs args = {QueueNames::kStream, QueueNames::kGroup, consumer_};
  args.insert(args.end(), entry_ids.begin(), entry_ids.end());
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kKeepHoldingScript.run(c, 1, args);
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
  const std::string key = progressKey(entry_id);
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command({"HGETALL", key});
  });
  DeliveryProgress progress;
  const auto& fields = reply.elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    std::string_view name = fields[i].text;
    const std::string& value = fields[i + 1].text;
    if (name == "attempts")
      progress.attempts = static_cast<int>(toInteger(value));
    else if (name == "due_ms")
      progress.due_ms = toInteger(value);
    else if (name == "last_error")
      progress.last_error = value;
    else if (name.substr(0, 4) == "ok::")
      progress.done.insert(std::string(name.substr(4)));
    else if (name.substr(0, 8) == "failed::")
      progress.failed[std::string(name.substr(8))] = value;
  }
  return progress;
}

void DeliveryConsumer::saveProgress(const std::string& entry_id, const DeliveryProgress& progress) {
  const std::string key = progressKey(entry_id);
  const std::string attempts = std::to_string(progress.attempts);
  const std::string due = std::to_string(progress.due_ms);
  std::vector<std::string> names;  // keeps the field names alive for the views below
  for (const auto& worker : progress.done)
    names.push_back("ok::" + worker);
  for (const auto& [worker, error] : progress.failed)
    names.push_back("failed::" + worker);
  store::RedisArgs hset = {"HSET",   key, "attempts",   attempts,
                           "due_ms", due, "last_error", progress.last_error};
  size_t name_index = 0;
  for (size_t i = 0; i < progress.done.size(); ++i) {
    hset.push_back(names[name_index++]);
    hset.push_back("1");
  }
  for (const auto& [worker, error] : progress.failed) {
    hset.push_back(names[name_index++]);
    hset.push_back(error);
  }
  // The fields only ever grow or move forward: sending the same write twice changes nothing.
  redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.pipeline({hset, {"EXPIRE", key, kProgressLifetimeSeconds}});
  });
}

bool DeliveryConsumer::finish(const std::string& entry_id,
                              const std::vector<DeadLetter>& dead_letters, int attempts,
                              const std::vector<std::string>& other_keys) {
  const std::string progress = progressKey(entry_id);
  const std::string attempts_text = std::to_string(attempts);
  const std::string now = std::to_string(unixTimeMs());
  store::RedisArgs args = {QueueNames::kStream, kDeadLetterStream, progress};
  args.insert(args.end(), other_keys.begin(), other_keys.end());
  const size_t key_count = args.size();
  args.insert(args.end(), {QueueNames::kGroup, consumer_, entry_id, attempts_text, now});
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

int64_t DeliveryConsumer::deliveryCount(const std::string& entry_id) {
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return c.command(
        {"XPENDING", QueueNames::kStream, QueueNames::kGroup, entry_id, entry_id, "1"});
  });
  if (reply.elements.empty() || reply.elements[0].elements.size() < 4) return 0;
  return reply.elements[0].elements[3].integer;
}

}  // namespace conduit::queue
