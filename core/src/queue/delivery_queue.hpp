#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "queue/delivery.hpp"
#include "queue/delivery_log.hpp"
#include "queue/redis_keys.hpp"
#include "store/redis_pool.hpp"
#include "store/redis_script.hpp"

namespace conduit::queue {

// The Redis names of the delivery queue; docs/queue.md describes them for the workers.
struct QueueNames {
  static constexpr std::string_view kStream = redis_keys::kStream;  // a Redis stream
  static constexpr std::string_view kGroup = redis_keys::kGroup;    // its consumer group
  // Marks a delivery id as accepted for 72 hours: conduit::seen::<provider>::<repo_id>::<id>,
  // holding the id of the stream entry it became.
  static std::string seenKey(std::string_view provider, std::string_view repo_id,
                             std::string_view delivery_id);
};

// How long a delivery id is remembered: GitHub lets people redeliver for three days.
inline constexpr std::chrono::hours kDeliveryIdMemory = redis_keys::kDeliveryIdMemory;

struct EnqueueResult {
  bool duplicate = false;  // the id was accepted before; nothing was queued now
  std::string entry_id;    // the stream entry holding the delivery (the earlier one if duplicate)
};

// The producing side of the queue. Entries are never trimmed here: an entry leaves the stream
// only when a worker has acknowledged it. Each delivery queued also gets its delivery log
// record, and the log is trimmed to `log`'s bounds, in the same step.
class DeliveryQueue {
 public:
  explicit DeliveryQueue(store::RedisPool& redis, LogSettings log = {});

  // Creates the consumer group (and the stream) if missing, so that entries queued before any
  // worker starts are kept for it. Throws store::RedisUnavailable.
  void ensureConsumerGroup();

  // Records the delivery id, appends the delivery and writes its delivery log record (status
  // queued; its payload stays in the entry until the worker's finish copies it; at most 100 of
  // the oldest records dropped when the log is past its age or count) in one atomic step, or
  // finds the id was accepted within the last 72 hours and writes nothing. Returns once the
  // entry is in Redis. Throws store::RedisUnavailable. Thread-safe: the calls of concurrent
  // threads share round trips (docs/queue.md, "Enqueue"). A duplicate's entry_id is '' when its
  // first acceptance is still being queued (or its server stopped between the two steps).
  EnqueueResult enqueue(const Delivery& delivery);

  // The most deliveries one batch carries.
  static constexpr size_t kMaxBatch = 32;

 private:
  // One caller of enqueue(), waiting for its batch.
  struct Waiter {
    const Delivery* delivery = nullptr;
    std::string identity;  // provider::repo_id::delivery id
    bool done = false;
    EnqueueResult result;
    std::exception_ptr error;
  };
  // An entry id still to be written into its seen key and record, which hold '' until then.
  struct Fixup {
    std::string seen_key;
    std::string record_key;
    std::string entry_id;
  };

  // Takes the next batch from waiting_ (the mutex held): in arrival order, each identity once.
  std::vector<Waiter*> takeBatch();
  // Sends `fixups` (earlier batches' ids), then queues `batch`, setting each waiter's result;
  // returns the fix-ups the batch leaves. Throws when Redis cannot take the batch.
  std::vector<Fixup> runBatch(const std::vector<Waiter*>& batch, const std::vector<Fixup>& fixups);
  void sendFixups(const std::vector<Fixup>& fixups);

  store::RedisPool& redis_;
  LogSettings log_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Waiter*> waiting_;  // callers whose delivery is in no batch yet
  bool leading_ = false;         // a caller is sending a batch (only one at a time)
  std::vector<Fixup> fixups_;    // ids the next batch writes first
};

}  // namespace conduit::queue
