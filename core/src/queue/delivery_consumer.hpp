#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "queue/delivery_progress.hpp"
#include "queue/redis_keys.hpp"
#include "store/redis_pool.hpp"

namespace conduit::queue {

// One entry of the delivery stream, as a worker process reads it (docs/queue.md has the fields).
struct QueuedDelivery {
  std::string entry_id;  // the stream entry id: 1700000000000-0
  std::string schema;
  std::string provider;
  std::string repo_id;
  std::string repo_path;
  std::string event;
  std::string delivery_id;
  int64_t received_at_ms = 0;
  std::string payload;
};

// A page of a consumer's own pending entries; `last_id` (empty at the end) is where the next
// page starts.
struct PendingPage {
  std::vector<QueuedDelivery> entries;
  std::string last_id;
};

// Entries taken over by claimIdle(), and where to go on scanning the pending list.
struct ClaimResult {
  std::vector<QueuedDelivery> entries;
  std::string next_cursor;  // "0-0" when the pending list was gone through
};

// The consuming side of the delivery queue: one consumer of the group conduit-workers. Every
// call leases a pooled connection except readNew(), which blocks and so takes its own.
class DeliveryConsumer {
 public:
  static constexpr std::string_view kDeadLetterStream = redis_keys::kDeadLetterStream;

  // `checkpoint_lifetime`: how long the checkpoints of a finished delivery are kept.
  // `lease_token`: this process's ConsumerLease token. Every check that an entry is this
  // consumer's also checks that no other process holds the consumer name (see owns()); empty:
  // not checked.
  DeliveryConsumer(store::RedisPool& redis, std::string consumer_name,
                   std::chrono::hours checkpoint_lifetime = std::chrono::hours(720),
                   std::string lease_token = {});

  const std::string& consumerName() const { return consumer_; }

  // New entries for this consumer (XREADGROUP ... >), waiting up to `block` for the first.
  // `connection` must have a command timeout longer than `block`.
  std::vector<QueuedDelivery> readNew(store::RedisConnection& connection, int count,
                                      std::chrono::milliseconds block);

  // Entries this consumer took and did not acknowledge (a restarted process under the same
  // name): up to `count` after the id `after`. Entries deleted meanwhile are acknowledged.
  PendingPage readOwnPending(int count, const std::string& after);

  // Takes over entries that other consumers left pending for at least `min_idle` (XAUTOCLAIM),
  // scanning from `cursor`. Entries deleted meanwhile leave the pending list.
  ClaimResult claimIdle(std::chrono::milliseconds min_idle, int count, const std::string& cursor);

  // Resets the idle time of entries this consumer still holds, so that no one claims them while
  // this process lives. Returns the ids another consumer has taken meanwhile.
  std::vector<std::string> keepHolding(const std::vector<std::string>& entry_ids);

  // The entry itself, or nullopt when it was deleted (finished by another consumer).
  std::optional<QueuedDelivery> fetch(const std::string& entry_id);

  DeliveryProgress loadProgress(const std::string& entry_id);

  // Each progress write is made only while the entry is pending for this consumer, in one
  // atomic step with the check: false, having written nothing, when another consumer has it.
  // markStarted() records that attempt `attempt` starts (before any processor is called), so
  // that a process that dies during it still has it counted; saveProgress() records how an
  // attempt ended.
  bool markStarted(const std::string& entry_id, int attempt);
  bool saveProgress(const std::string& entry_id, const DeliveryProgress& progress);

  // Whether the entry is this consumer's now: pending for this consumer name, and the name not
  // held by another process (one that started under it while this one stalled past its lease:
  // the two would share one pending list). Every write below makes the same check, in the
  // same atomic step as the write.
  bool owns(const std::string& entry_id);

  // Ends a delivery in one atomic step, if it is still pending for this consumer: XACK, a
  // dead-letter entry per `dead_letters` (the delivery's fields plus entry, worker, error,
  // attempts, failed_at_ms), XDEL, its progress erased, and its `checkpoint_keys` set to expire
  // after the checkpoint lifetime (kept for a replay of the same delivery). Returns false,
  // having done nothing, when another consumer has it (or it was acknowledged already).
  bool finish(const std::string& entry_id, const std::vector<FailedWorker>& dead_letters,
              int attempts, const std::vector<std::string>& checkpoint_keys);

  // Removes from the group the consumers that hold nothing, have been idle for at least
  // `min_idle` and have no live process holding their name (XGROUP DELCONSUMER); returns their
  // names.
  std::vector<std::string> removeGoneConsumers(std::chrono::milliseconds min_idle);

  // How many times the entry was handed to a consumer (read, read again after a restart, or
  // claimed); 0 when it is not pending. Refreshing the idle time does not count.
  int64_t deliveryCount(const std::string& entry_id);

  static std::string progressKey(std::string_view entry_id);

 private:
  // Acknowledges pending entries deleted from the stream: nothing is left of them to process.
  void forget(const std::vector<std::string>& deleted_ids);
  bool writeProgress(const std::string& entry_id, const std::vector<std::string>& fields);
  // The keys and arguments every ownership check starts with (see kOwnership); `third_key`, when
  // not empty, is the script's third key.
  store::RedisArgs ownershipArgs(const std::string& third_key = {}) const;

  store::RedisPool& redis_;
  std::string consumer_;
  std::string lease_key_;
  std::string lease_token_;
  std::chrono::hours checkpoint_lifetime_;
};

}  // namespace conduit::queue
