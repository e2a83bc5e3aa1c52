#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

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

// What is known of a delivery across its attempts, kept in Redis between them so that a worker
// process that claims the delivery after a crash goes on where the last one stopped:
// conduit::progress::<entry id>, a hash, erased when the delivery is acknowledged.
struct DeliveryProgress {
  int attempts = 0;                           // attempts finished so far
  std::set<std::string> done;                 // workers that answered ok: never called again
  std::map<std::string, std::string> failed;  // workers that failed for good, with why
  int64_t due_ms = 0;                         // the next attempt starts no earlier (Unix ms)
  std::string last_error;                     // the last retry's reason, for the dead letter
};

// A worker that failed for good on a delivery: one dead-letter entry each.
struct DeadLetter {
  std::string worker;
  std::string error;
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
  static constexpr std::string_view kDeadLetterStream = "conduit::dead-letters";

  DeliveryConsumer(store::RedisPool& redis, std::string consumer_name);

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
  void saveProgress(const std::string& entry_id, const DeliveryProgress& progress);

  // Ends a delivery in one atomic step, if it is still pending for this consumer: XACK, a
  // dead-letter entry per `dead_letters` (the delivery's fields plus entry, worker, error,
  // attempts, failed_at_ms), XDEL, and its progress and `other_keys` (the processors'
  // checkpoints) erased. Returns false, having done nothing, when another consumer has it (or
  // it was acknowledged already).
  bool finish(const std::string& entry_id, const std::vector<DeadLetter>& dead_letters,
              int attempts, const std::vector<std::string>& other_keys);

  // How many times the entry was handed to a consumer (read, read again after a restart, or
  // claimed); 0 when it is not pending. Refreshing the idle time does not count.
  int64_t deliveryCount(const std::string& entry_id);

  static std::string progressKey(std::string_view entry_id);

 private:
  // Acknowledges pending entries deleted from the stream: nothing is left of them to process.
  void forget(const std::vector<std::string>& deleted_ids);

  store::RedisPool& redis_;
  std::string consumer_;
};

}  // namespace conduit::queue
