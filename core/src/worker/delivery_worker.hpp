#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "plugin/plugin_instance.hpp"
#include "queue/consumer_lease.hpp"
#include "queue/delivery_consumer.hpp"
#include "queue/delivery_log.hpp"
#include "queue/redis_keys.hpp"
#include "store/redis_pool.hpp"
#include "worker/retry_decision.hpp"
#include "worker/retry_policy.hpp"

namespace conduit::worker {

// What one attempt at a delivery came to, for an observer (metrics): each worker's answer, and
// the decision taken on them. Valid during the call only.
struct AttemptReport {
  const queue::QueuedDelivery& delivery;
  const std::vector<WorkerAnswer>& answers;
  const RetryDecision& decision;
};

struct WorkerOptions {
  // This process's consumer name in the group: stable across restarts on one machine (host and
  // port, or `consumer_name`), so that a restarted process takes back at once what it left
  // pending. Held by one live process at a time (queue::ConsumerLease).
  std::string consumer_name;
  int concurrency = 16;  // deliveries being processed at once
  RetryPolicy retry;
  std::chrono::milliseconds claim_idle{60000};  // pending that long elsewhere: taken over
  std::chrono::milliseconds redis_timeout{2000};
  std::chrono::hours checkpoint_lifetime{720};  // kept this long after a delivery ends
  std::chrono::milliseconds lease_lifetime = queue::redis_keys::kConsumerLifetime;
  // Told of each attempt once its workers answered, on the executor's thread: keep it short.
  std::function<void(const AttemptReport&)> on_attempt;
  queue::LogSettings delivery_log;  // delivery_log_hours and delivery_log_max
};

// How many deliveries this process ended, for its stop message and the tests.
struct WorkerCounts {
  uint64_t acknowledged = 0;  // every worker answered ok (or failed for good)
  uint64_t retries = 0;       // attempts that ended in a retry
  uint64_t dead_letters = 0;  // dead-letter entries written
};

// The worker half of a process: takes deliveries off the queue and hands each to every
// processor (one per workers.yaml entry), at least once.
//
// - A delivery is acknowledged (and deleted) only after every processor answered ok or failed
//   for good; those that failed for good get a dead-letter entry each.
// - A retry answer puts the delivery back after a backoff; the processors that already answered
//   ok are not called again, including after a crash (their outcomes are kept in Redis).
// - Deliveries this process holds (being processed or waiting for a retry) are kept from other
//   consumers by refreshing their idle time; those another process left pending longer than
//   claim_idle are taken over. Only attempts that started count: each is recorded before the
//   processors are called, so an attempt its process died during counts (a plugin that crashes
//   the process on a delivery ends in a dead letter), while a restart of a process whose
//   deliveries were waiting for a retry counts nothing.
// - Every progress write and every processor call checks first that the delivery is still this
//   consumer's: a process that stalled past claim_idle leaves alone what was taken over.
// - Its consumer name is held by this process alone (a lease in Redis); consumers of the group
//   that are gone and hold nothing are removed from it.
// - It holds at most kHeldPerSlot * concurrency deliveries; the rest stay in the stream for
//   other worker processes.
// - It keeps each delivery's record in the delivery log (queue::DeliveryLog) up to date: an
//   attempt started, and how it ended once the queue has recorded that (never before: the
//   record never says done of a delivery the queue could still run again). The log is for
//   people; a write to it that fails is warned of and changes nothing else.
class DeliveryWorker {
 public:
  static constexpr int kHeldPerSlot = 64;

  // The processors in force, one per workers.yaml entry. A reload replaces the whole set; an
  // attempt keeps the set it started with alive until it ends, so the old instances are
  // destroyed only when no call into them is left.
  using Processors = std::vector<std::shared_ptr<plugin::PluginInstance>>;

  DeliveryWorker(store::RedisPool& redis, WorkerOptions options,
                 std::shared_ptr<const Processors> processors);
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  // Takes the consumer name and starts the threads. Throws queue::ConsumerNameTaken when a live
  // process holds the name (nothing is started then); when Redis does not answer, the reader
  // takes the name once it does.
  void start();

  // Stops reading, lets the deliveries being processed finish for at most `grace`, and leaves
  // every other one pending for another consumer (or this one, restarted). Returns how many
  // were still being processed when the grace ran out: then the processors must not be
  // destroyed, as their calls are still running.
  int stop(std::chrono::milliseconds grace);

  WorkerCounts counts() const;

  // Whether the reader has gone round its loop within `within`: it does at least twice a
  // second, Redis up or down, unless something blocks it. For the systemd watchdog.
  bool readerAlive(std::chrono::milliseconds within) const;

  // Puts `processors` in force from the next attempt on (SIGHUP with a changed workers.yaml).
  void replaceProcessors(std::shared_ptr<const Processors> processors);

 private:
  using Clock = std::chrono::steady_clock;

  // A delivery this process holds: ready, waiting for its next attempt, or being processed.
  struct Job {
    std::string entry_id;
    std::optional<queue::QueuedDelivery> delivery;    // dropped while waiting, fetched again
    std::optional<queue::DeliveryProgress> progress;  // unknown for adopted ones (see adopt)
    // How the attempt ended, to be written to Redis. Kept on the job until it is, so that a
    // Redis failure at that point repeats the write, never the processors.
    std::optional<RetryDecision> decided;
    // What each worker of the attempt answered and reported, for the delivery log once the
    // decision is written; its key, kept with it (the delivery is dropped while it waits).
    std::vector<queue::WorkerRecord> answered;
    queue::DeliveryKey log_key;
  };

  void readLoop();
  void executeLoop();
  void takeBackOwnPending();
  void keepHoldingAndClaim();
  // The reader's care of the consumer name: false when this process must not go on (another
  // holds the name).
  bool holdName();
  void removeGoneConsumers();
  // Another process took the consumer name: nothing held here is this process's any more.
  void loseName(const std::string& why);
  // Whether the job's delivery is still this consumer's; releases it when not.
  bool stillOurs(const Job& job);
  int freeSlots(Clock::time_point now) const;  // with mutex_ held
  void schedule(Job job, Clock::time_point when);
  // Schedules a delivery this process took back or took over, unless it already holds it.
  void adopt(std::string entry_id);
  void release(const std::string& entry_id);

  void run(Job& job);
  // For an adopted delivery: false when it is not to run now (waiting, or dead-lettered).
  bool resume(Job& job, const Processors& processors);
  void attempt(Job& job, const Processors& processors);
  void commit(Job& job);
  // The delivery log's side: never throws, never holds a delivery back.
  void logStarted(const queue::QueuedDelivery& delivery, int attempt, std::string_view kind);
  void logEnded(Job& job, queue::DeliveryStatus status, std::string_view reason,
                int64_t next_attempt_ms);
  // The checkpoint hashes of the job's delivery, to be kept checkpoint_lifetime from its end.
  std::vector<std::string> checkpointKeys(const Job& job);
  void knowWorkers(const Processors& processors);  // with mutex_ held

  store::RedisPool& redis_;
  WorkerOptions options_;
  std::shared_ptr<const Processors> processors_;  // guarded by mutex_
  std::set<std::string> known_workers_;           // every worker in force since start; mutex_
  queue::ConsumerLease lease_;
  queue::DeliveryConsumer consumer_;  // checks lease_'s token with each ownership check
  queue::DeliveryLog log_;
  bool lease_held_ = false;  // the reader's
  std::atomic<bool> name_lost_{false};

  mutable std::mutex mutex_;
  std::condition_variable job_added_;           // executors wait on it
  std::condition_variable job_ended_;           // the reader (for room) and stop() wait on it
  std::multimap<Clock::time_point, Job> jobs_;  // by when they may run
  std::set<std::string> held_;                  // entry ids of jobs_ and of those running
  int running_ = 0;
  bool stopping_ = false;
  std::string claim_cursor_ = "0-0";

  std::atomic<int64_t> reader_beat_ms_{0};  // steady clock, at each turn of the reader
  std::atomic<uint64_t> acknowledged_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> dead_letters_{0};

  std::thread reader_;
  std::vector<std::thread> executors_;
};

}  // namespace conduit::worker
