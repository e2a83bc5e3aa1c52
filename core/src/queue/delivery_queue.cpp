#include "queue/delivery_queue.hpp"

#include <algorithm>
#include <cctype>
#include <deque>

#include <fmt/format.h>

namespace conduit::queue {
namespace {

namespace entry = redis_keys::entry;
namespace record = redis_keys::record;

// The enqueue step never hands a payload to Lua: Redis 7 hashes every byte of every string that
// enters a script (about 28 µs for a 32 KB payload, a quarter of Redis's CPU per delivery). It is
// optimistic, in two round trips per batch of deliveries (docs/queue.md, "Enqueue"):
//   1. WATCH the batch's seen keys, MGET them: the duplicates are those found.
//   2. MULTI; this script; per new delivery XADD (with the payload); EXEC. Redis runs it all at
//      once or, when a watched seen key changed after the WATCH (another server took the same
//      delivery), not at all: EXEC answers nil and the batch is made again from step 1.
// The script runs inside the transaction, before the XADDs, so it cannot know their ids: it
// writes '' as the seen keys' and the records' entry, and kFixupScript writes the ids right
// after EXEC (readers take '' for "being queued"). A transaction cannot be half applied: a
// command refused when it is queued (out of memory) aborts the EXEC, and Redis writes the
// transaction to the append-only file as one MULTI/EXEC block, which a restart replays whole or
// (a torn tail) not at all. The record gets no payload here: the payload is in the entry while
// the delivery is queued, and the worker's finish copies it into the record when the entry
// leaves the stream (copied here it was a third of Redis's work per delivery).
//
// KEYS[1]: the stream, KEYS[2]: the log index, then per delivery its seen key and its record.
// ARGV[1]: seconds to remember the ids, ARGV[2]: group, ARGV[3]: the record's lifetime in
// seconds, ARGV[4]: the earliest acceptance time kept in the log (Unix ms), ARGV[5]: the most
// records kept, ARGV[6]: the record key prefix, ARGV[7]: the record's entry field, ARGV[8]: n,
// the number of record field/value arguments of each delivery; then per delivery its identity,
// its acceptance time and its n record arguments. The group is created with the stream, so that
// nothing queued before any worker exists is missed. A record left from an earlier acceptance
// of the same delivery (its id forgotten since) is replaced: this is a new acceptance. The trim
// drops the records accepted before the earliest time kept, then the oldest past the most kept,
// at most 100 per delivery of the batch, so that no delivery pays for a long backlog of them.
const std::string kAcceptScript = R"lua(
local ttl, group, lifetime, earliest, most, prefix, f_entry = unpack(ARGV, 1, 7)
local per = tonumber(ARGV[8])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], group, '0', 'MKSTREAM')
end
local at = 9
for i = 3, #KEYS, 2 do
  redis.call('SET', KEYS[i], '', 'EX', ttl)
  redis.call('DEL', KEYS[i + 1])
  redis.call('HSET', KEYS[i + 1], f_entry, '', unpack(ARGV, at + 2, at + 1 + per))
  redis.call('EXPIRE', KEYS[i + 1], lifetime)
  redis.call('ZADD', KEYS[2], ARGV[at + 1], ARGV[at])
  at = at + 2 + per
end
local function drop(members)
  if #members == 0 then return end
  for _, member in ipairs(members) do redis.call('DEL', prefix .. member) end
  redis.call('ZREM', KEYS[2], unpack(members))
end
local room = 100 * (#KEYS - 2) / 2
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. earliest, 'LIMIT', 0, room)
drop(old)
room = room - #old
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(most)
if excess > 0 and room > 0 then drop(redis.call('ZRANGE', KEYS[2], 0, math.min(excess, room) - 1)) end
return 1
)lua";

// KEYS: per delivery its seen key and its record. ARGV[1]: the record's entry field, then the
// entry ids, one per delivery. Writes each id where the transaction left '' (a worker that
// started on the entry meanwhile wrote it already; a record trimmed meanwhile is not made again).
const std::string kFixupScript = R"lua(
for i = 1, #KEYS, 2 do
  local id = ARGV[(i + 1) / 2 + 1]
  if redis.call('GET', KEYS[i]) == '' then redis.call('SET', KEYS[i], id, 'KEEPTTL') end
  if redis.call('HGET', KEYS[i + 1], ARGV[1]) == '' then
    redis.call('HSET', KEYS[i + 1], ARGV[1], id)
  end
end
return 1
)lua";

// A batch whose seen keys keep changing under it (other servers taking the same deliveries)
// is made again this many times before the callers are told.
constexpr int kBatchTries = 20;
// Fix-ups left unwritten (Redis went away) are kept for the next batch, up to this many; past
// that the oldest are left to the workers, which write the id when they start on the entry.
constexpr size_t kMaxFixups = 10000;

// A command list and the texts its arguments point into, which must outlive the sending.
struct Commands {
  std::deque<std::string> texts;  // a deque: adding one does not move the others
  std::vector<store::RedisArgs> list;

  std::string_view keep(std::string text) { return texts.emplace_back(std::move(text)); }
};

// EVAL with the source, not EVALSHA: inside MULTI a NOSCRIPT (Redis restarted, SCRIPT FLUSH)
// would fail the script alone while the rest of the transaction is applied. Redis hashes the
// short source (no payload in it) to find the script it compiled before.
void appendEval(Commands& commands, const std::string& script, size_t key_count,
                const store::RedisArgs& args) {
  store::RedisArgs command = {"EVAL", script, commands.keep(std::to_string(key_count))};
  command.insert(command.end(), args.begin(), args.end());
  commands.list.push_back(std::move(command));
}

// `fixups`: DeliveryQueue's, each with a seen_key, a record_key and an entry_id.
template <typename Fixups>
void appendFixups(Commands& commands, const Fixups& fixups) {
  if (fixups.empty()) return;
  store::RedisArgs args;
  for (const auto& fixup : fixups)
    args.insert(args.end(), {fixup.seen_key, fixup.record_key});
  args.push_back(record::kEntry);
  for (const auto& fixup : fixups)
    args.push_back(fixup.entry_id);
  appendEval(commands, kFixupScript, 2 * fixups.size(), args);
}

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
  // Leader and followers: a caller that finds no batch in flight sends every waiting delivery
  // (its own among them) in one batch; the others wait for it, and the next of them to wake
  // sends what arrived meanwhile. An idle queue adds no wait: the lone caller leads at once.
  Waiter me;
  me.delivery = &delivery;
  me.identity =
      redis_keys::deliveryIdentity(delivery.provider, delivery.repo_id, delivery.delivery_id);
  std::unique_lock lock(mutex_);
  waiting_.push_back(&me);
  while (!me.done) {
    if (leading_) {
      changed_.wait(lock);
      continue;
    }
    leading_ = true;
    std::vector<Waiter*> batch = takeBatch();
    std::vector<Fixup> carried;
    carried.swap(fixups_);
    lock.unlock();

    std::vector<Fixup> made;
    std::exception_ptr error;
    try {
      made = runBatch(batch, carried);
    } catch (const store::RedisUnavailable&) {
      error = std::current_exception();
      made = std::move(carried);  // perhaps not written: the next batch writes them again
    } catch (...) {
      error = std::current_exception();  // a refused write would be refused again: dropped
    }

    lock.lock();
    for (Waiter* waiter : batch) {
      if (error) waiter->error = error;
      waiter->done = true;
    }
    changed_.notify_all();
    if (waiting_.empty() && !made.empty()) {
      // No batch follows to carry the ids: write them now, before another caller (perhaps one
      // just answered, sending its delivery again) can read a seen key.
      lock.unlock();
      try {
        sendFixups(made);
        made.clear();
      } catch (const store::RedisUnavailable&) {
        // Kept for the next batch.
      } catch (const store::RedisError&) {
        made.clear();
      }
      lock.lock();
    }
    fixups_.insert(fixups_.begin(), made.begin(), made.end());
    if (fixups_.size() > kMaxFixups) {
      fixups_.erase(fixups_.begin(), fixups_.end() - static_cast<long>(kMaxFixups));
    }
    leading_ = false;
    changed_.notify_all();
  }
  lock.unlock();
  if (me.error) std::rethrow_exception(me.error);
  return me.result;
}

std::vector<DeliveryQueue::Waiter*> DeliveryQueue::takeBatch() {
  // The same delivery twice: the second waits for the next batch, where the first's seen key
  // is written, and is found a duplicate there.
  std::vector<Waiter*> batch;
  for (auto it = waiting_.begin(); it != waiting_.end() && batch.size() < kMaxBatch;) {
    const bool again = std::any_of(batch.begin(), batch.end(),
                                   [&](const Waiter* w) { return w->identity == (*it)->identity; });
    if (again) {
      ++it;
      continue;
    }
    batch.push_back(*it);
    it = waiting_.erase(it);
  }
  return batch;
}

void DeliveryQueue::sendFixups(const std::vector<Fixup>& fixups) {
  Commands commands;
  appendFixups(commands, fixups);
  // Writes an id only where '' still is: safe to send twice.
  redis_.run(store::Retry::kIdempotent,
             [&](store::RedisConnection& c) { return c.pipelineVectored(commands.list); });
}

std::vector<DeliveryQueue::Fixup> DeliveryQueue::runBatch(const std::vector<Waiter*>& batch,
                                                          const std::vector<Fixup>& fixups) {
  const std::string ttl = std::to_string(std::chrono::seconds(kDeliveryIdMemory).count());
  const std::string log_lifetime = std::to_string(std::chrono::seconds(log_.lifetime).count());
  const int64_t lifetime_ms = std::chrono::milliseconds(log_.lifetime).count();
  const std::string max_records = std::to_string(log_.max_records);
  int64_t newest_ms = 0;
  for (const Waiter* waiter : batch)
    newest_ms = std::max(newest_ms, waiter->delivery->received_at_ms);
  const std::string earliest_kept = std::to_string(newest_ms - lifetime_ms);

  std::vector<std::string> seen_keys;
  std::vector<std::string> record_keys;
  for (const Waiter* waiter : batch) {
    const Delivery& d = *waiter->delivery;
    seen_keys.push_back(QueueNames::seenKey(d.provider, d.repo_id, d.delivery_id));
    record_keys.push_back(redis_keys::logKey(waiter->identity));
  }

  // Safe to send twice: a second run finds the seen keys the first wrote (when it got that
  // far) and writes nothing for them; fix-ups write only where '' is.
  return redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    std::vector<Fixup> made;
    bool fixups_sent = false;
    for (int tries = 0; tries < kBatchTries; ++tries) {
      // 1. What is known of each id, the keys watched from before the read on.
      Commands check;
      if (!fixups_sent) appendFixups(check, fixups);
      store::RedisArgs watch = {"WATCH"};
      store::RedisArgs mget = {"MGET"};
      for (const auto& key : seen_keys) {
        watch.push_back(key);
        mget.push_back(key);
      }
      check.list.push_back(std::move(watch));
      check.list.push_back(std::move(mget));
      std::vector<store::RedisValue> known;
      try {
        known = c.pipelineVectored(check.list);
      } catch (const store::RedisError&) {
        c.abandon();  // the WATCH may be in force
        throw;
      }
      fixups_sent = true;
      const auto& values = known.back().elements;
      if (values.size() != batch.size()) {
        c.abandon();
        throw store::RedisError("unexpected reply to MGET");
      }
      std::vector<size_t> fresh;
      for (size_t i = 0; i < batch.size(); ++i) {
        if (values[i].isNil()) {
          fresh.push_back(i);
        } else {
          batch[i]->result = EnqueueResult{true, values[i].text};
        }
      }
      if (fresh.empty()) {
        c.command({"UNWATCH"});
        return made;
      }

      // 2. The new ones, in one transaction.
      Commands write;
      write.list.push_back({"MULTI"});
      store::RedisArgs script = {QueueNames::kStream, redis_keys::kLogIndex};
      for (size_t i : fresh)
        script.insert(script.end(), {seen_keys[i], record_keys[i]});
      const size_t key_count = script.size();
      script.insert(script.end(), {ttl, QueueNames::kGroup, log_lifetime, earliest_kept,
                                   max_records, redis_keys::kLogPrefix, record::kEntry, ""});
      const size_t count_at = script.size() - 1;
      size_t per_delivery = 0;
      for (size_t i : fresh) {
        const Delivery& d = *batch[i]->delivery;
        const std::string_view received_at = write.keep(std::to_string(d.received_at_ms));
        const std::string_view size = write.keep(std::to_string(d.payload.size()));
        const store::RedisArgs fields = {
            record::kProvider,      d.provider,
            record::kRepoId,        d.repo_id,
            record::kRepoPath,      d.repo_path,
            record::kEvent,         d.event,
            record::kKind,          "",
            record::kDelivery,      d.delivery_id,
            record::kSize,          size,
            record::kAcceptedAtMs,  received_at,
            record::kUpdatedAtMs,   received_at,
            record::kStatus,        statusName(DeliveryStatus::kQueued),
            record::kReason,        "",
            record::kNextAttemptMs, "0",
            record::kAttempts,      "0",
            record::kReplays,       "0",
            record::kIssues,        ""};
        per_delivery = fields.size();
        script.insert(script.end(), {std::string_view(batch[i]->identity), received_at});
        script.insert(script.end(), fields.begin(), fields.end());
      }
      script[count_at] = write.keep(std::to_string(per_delivery));
      appendEval(write, kAcceptScript, key_count, script);
      for (size_t i : fresh) {
        const Delivery& d = *batch[i]->delivery;
        const std::string_view received_at = write.keep(std::to_string(d.received_at_ms));
        write.list.push_back({"XADD", QueueNames::kStream, "*", entry::kSchema,
                              redis_keys::kSchemaVersion, entry::kProvider, d.provider,
                              entry::kRepoId, d.repo_id, entry::kRepoPath, d.repo_path,
                              entry::kEvent, d.event, entry::kDelivery, d.delivery_id,
                              entry::kReceivedAtMs, received_at, entry::kPayload, d.payload});
      }
      write.list.push_back({"EXEC"});
      // An error reply here (a command refused when queued: EXECABORT) throws; Redis has then
      // discarded the whole transaction and its watch.
      auto replies = c.pipelineVectored(write.list);
      const store::RedisValue& exec = replies.back();
      if (exec.isNil()) continue;  // a watched seen key changed: look again
      // The script's reply, then the XADDs' ids.
      if (exec.elements.size() != 1 + fresh.size()) {
        throw store::RedisError("unexpected reply to EXEC");
      }
      if (exec.elements[0].type == store::RedisValue::Type::kError) {
        // The script failed when run (a key of Conduit's holding another type): the entries
        // were appended without their seen keys. Take them out again before a worker reads
        // them, and report the error.
        store::RedisArgs remove = {"XDEL", QueueNames::kStream};
        for (size_t k = 0; k < fresh.size(); ++k)
          remove.push_back(exec.elements[1 + k].text);
        c.command(remove);
        throw store::RedisError(exec.elements[0].text);
      }
      for (size_t k = 0; k < fresh.size(); ++k) {
        const auto& id = exec.elements[1 + k];
        if (id.type != store::RedisValue::Type::kString) {
          throw store::RedisError("the transaction's XADD failed: " + id.text);
        }
        const size_t i = fresh[k];
        batch[i]->result = EnqueueResult{false, id.text};
        made.push_back({seen_keys[i], record_keys[i], id.text});
      }
      return made;
    }
    throw store::RedisUnavailable("Redis: the seen keys kept changing during the enqueue");
  });
}

}  // namespace conduit::queue
