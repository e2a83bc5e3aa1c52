#include "queue/delivery_queue.hpp"

#include <cctype>

#include <fmt/format.h>

namespace conduit::queue {
namespace {

// KEYS: seen key, stream, the delivery's log record, the log index. ARGV[1]: seconds to remember
// the id, ARGV[2]: group, ARGV[3]: the record's lifetime in seconds, ARGV[4]: the earliest
// acceptance time kept in the log (Unix ms), ARGV[5]: the most records kept, ARGV[6]: the record
// key prefix, ARGV[7]: the delivery's identity, ARGV[8]: its acceptance time, ARGV[9] and
// ARGV[10]: the record's entry and payload field names, ARGV[11]: n, the number of record
// arguments that follow (field/value pairs), then the entry's field/value pairs, payload last
// (the record copies it from there, so that it is sent once). The entry is appended before the
// id is recorded: should the append fail (Redis out of memory), nothing is left behind that
// would turn away the redelivery. A record left from an earlier acceptance of the same delivery
// (its id forgotten since) is replaced: this is a new acceptance. The trim drops the records
// accepted before the earliest time kept, then the oldest past the most kept, at most 100 in
// all, so that one delivery never pays for a long backlog of them.
const store::RedisScript kEnqueueScript(R"lua(
local earlier = redis.call('GET', KEYS[1])
if earlier then return {0, earlier} end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
end
local n = tonumber(ARGV[11])
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 12 + n))
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], ARGV[9], id, ARGV[10], ARGV[#ARGV], unpack(ARGV, 12, 11 + n))
redis.call('EXPIRE', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[7])
local function drop(members)
  if #members == 0 then return end
  for _, member in ipairs(members) do redis.call('DEL', ARGV[6] .. member) end
  redis.call('ZREM', KEYS[4], unpack(members))
end
local room = 100
local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[4], 'LIMIT', 0, room)
drop(old)
room = room - #old
local excess = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[5])
if excess > 0 and room > 0 then drop(redis.call('ZRANGE', KEYS[4], 0, math.min(excess, room) - 1)) end
return {1, id}
)lua");

}  // namespace

bool isValidDeliveryId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

std::string QueueNames::seenKey(std::string_view provider, std::string_view repo_id,
                                std::string_view delivery_id) {
  return redis_keys::seenKey(provider, repo_id, delivery_id);
}

DeliveryQueue::DeliveryQueue(store::RedisPool& redis, LogSettings log) : redis_(redis), log_(log) {}

void DeliveryQueue::ensureConsumerGroup() {
  redis_.run(store::Retry::kIdempotent, [](store::RedisConnection& c) {
    try {
      // From id 0, so that entries appended before the group existed are delivered too.
      c.command({"XGROUP", "CREATE", QueueNames::kStream, QueueNames::kGroup, "0", "MKSTREAM"});
    } catch (const store::RedisError& e) {
      if (std::string_view(e.what()).substr(0, 9) != "BUSYGROUP") throw;
    }
    return true;
  });
}

EnqueueResult DeliveryQueue::enqueue(const Delivery& delivery) {
  const std::string seen =
      QueueNames::seenKey(delivery.provider, delivery.repo_id, delivery.delivery_id);
  const std::string identity =
      redis_keys::deliveryIdentity(delivery.provider, delivery.repo_id, delivery.delivery_id);
  const std::string record_key = redis_keys::logKey(identity);
  const std::string ttl = std::to_string(std::chrono::seconds(kDeliveryIdMemory).count());
  const std::string log_lifetime = std::to_string(std::chrono::seconds(log_.lifetime).count());
  const int64_t lifetime_ms = std::chrono::milliseconds(log_.lifetime).count();
  const std::string earliest_kept = std::to_string(delivery.received_at_ms - lifetime_ms);
  const std::string max_records = std::to_string(log_.max_records);
  const std::string received_at = std::to_string(delivery.received_at_ms);
  const std::string size = std::to_string(delivery.payload.size());
  namespace entry = redis_keys::entry;
  namespace record = redis_keys::record;
  const store::RedisArgs record_fields = {
      record::kProvider,      delivery.provider,
      record::kRepoId,        delivery.repo_id,
      record::kRepoPath,      delivery.repo_path,
      record::kEvent,         delivery.event,
      record::kKind,          "",
      record::kDelivery,      delivery.delivery_id,
      record::kSize,          size,
      record::kAcceptedAtMs,  received_at,
      record::kUpdatedAtMs,   received_at,
      record::kStatus,        statusName(DeliveryStatus::kQueued),
      record::kReason,        "",
      record::kNextAttemptMs, "0",
      record::kAttempts,      "0",
      record::kReplays,       "0",
      record::kIssues,        ""};
  const std::string record_count = std::to_string(record_fields.size());
  store::RedisArgs args = {seen,
                           QueueNames::kStream,
                           record_key,
                           redis_keys::kLogIndex,
                           ttl,
                           QueueNames::kGroup,
                           log_lifetime,
                           earliest_kept,
                           max_records,
                           redis_keys::kLogPrefix,
                           identity,
                           received_at,
                           record::kEntry,
                           record::kPayload,
                           record_count};
  args.insert(args.end(), record_fields.begin(), record_fields.end());
  args.insert(args.end(),
              {entry::kSchema, redis_keys::kSchemaVersion, entry::kProvider, delivery.provider,
               entry::kRepoId, delivery.repo_id, entry::kRepoPath, delivery.repo_path,
               entry::kEvent, delivery.event, entry::kDelivery, delivery.delivery_id,
               entry::kReceivedAtMs, received_at, entry::kPayload, delivery.payload});
  // Safe to send twice: a second run finds the id recorded by the first and writes nothing.
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kEnqueueScript.run(c, 4, args);
  });
  if (reply.elements.size() != 2) {
    throw store::RedisError("unexpected reply from the enqueue script");
  }
  return EnqueueResult{reply.elements[0].integer == 0, reply.elements[1].text};
}

}  // namespace conduit::queue
