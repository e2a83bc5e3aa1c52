#include "worker/delivery_worker.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "logging/log_context.hpp"
#include "plugin/checkpoint_store.hpp"
#include "providers/registry.hpp"
#include "queue/delivery_queue.hpp"

namespace conduit::worker {
namespace {

// How long one XREADGROUP waits for new deliveries: also how long a stop waits for the reader.
constexpr std::chrono::milliseconds kReadBlock{500};
// How long to wait before trying Redis again after it failed.
constexpr std::chrono::seconds kRedisPause{1};
// At most this many ids per idle-time refresh, to keep each script run short.
constexpr size_t kHoldBatch = 500;
// The entry schema this release reads.
constexpr std::string_view kSchema = queue::redis_keys::kSchemaVersion;
// A consumer not heard of for this many claim_idle periods, holding nothing and with no live
// process, is removed from the group. Checked every claim_idle: removed within 6 of them.
constexpr int kGoneAfterClaimIdles = 5;

double jitter() {
  thread_local std::mt19937 random{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(random);
}

// The event a processor sees, from the delivery's provider and payload.
std::optional<providers::Event> normalize(const queue::QueuedDelivery& delivery,
                                          std::string& error) {
  const providers::Provider* provider = providers::findProvider(delivery.provider);
  if (provider == nullptr) {
    error = fmt::format("no provider `{}` in this release", delivery.provider);
    return std::nullopt;
  }
  return providers::normalize(*provider, delivery.event, delivery.payload, error);
}

queue::DeliveryKey keyOf(const queue::QueuedDelivery& delivery) {
  return {delivery.provider, delivery.repo_id, delivery.delivery_id};
}

std::string_view outcomeName(WorkerAnswer::Kind kind) {
  switch (kind) {
    case WorkerAnswer::Kind::kOk:
      return "ok";
    case WorkerAnswer::Kind::kRetry:
      return "retry";
    case WorkerAnswer::Kind::kFailed:
      break;
  }
  return "failed";
}

std::string describe(const queue::QueuedDelivery& delivery) {
  return fmt::format("delivery {} ({} {}, entry {})", delivery.delivery_id, delivery.repo_path,
                     delivery.event, delivery.entry_id);
}

}  // namespace

DeliveryWorker::DeliveryWorker(store::RedisPool& redis, WorkerOptions options,
                               std::shared_ptr<const Processors> processors)
    : redis_(redis),
      options_(std::move(options)),
      processors_(std::move(processors)),
      lease_(redis, options_.consumer_name, options_.lease_lifetime),
      consumer_(redis, options_.consumer_name, options_.checkpoint_lifetime, lease_.token()),
      log_(redis, options_.delivery_log) {
  knowWorkers(*processors_);
}

DeliveryWorker::~DeliveryWorker() {
  // Plugin calls must not outlive the worker: wait for them, however long they take.
  if (reader_.joinable()) stop(std::chrono::hours(24 * 365));
}

void DeliveryWorker::start() {
  try {
    lease_.acquire();
    lease_held_ = true;
  } catch (const store::RedisUnavailable&) {
    // The reader takes it once Redis answers; nothing is read before.
  } catch (const store::RedisError&) {
  }
  reader_beat_ms_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
          .count();
  reader_ = std::thread([this] { readLoop(); });
  for (int i = 0; i < options_.concurrency; ++i)
    executors_.emplace_back([this] { executeLoop(); });
}

int DeliveryWorker::stop(std::chrono::milliseconds grace) {
  const auto deadline = Clock::now() + grace;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  job_added_.notify_all();
  job_ended_.notify_all();
  if (reader_.joinable()) reader_.join();
  std::unique_lock lock(mutex_);
  job_ended_.wait_until(lock, deadline, [this] { return running_ == 0; });
  if (running_ > 0) {
    for (auto& executor : executors_)
      executor.detach();
    executors_.clear();
    return running_;
  }
  lock.unlock();
  for (auto& executor : executors_)
    executor.join();
  executors_.clear();
  if (lease_held_ && !name_lost_) {
    try {
      lease_.release();  // a successor elsewhere need not wait for it to expire
    } catch (const std::exception&) {
      // It expires.
    }
  }
  return 0;
}

bool DeliveryWorker::readerAlive(std::chrono::milliseconds within) const {
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
          .count();
  return now - reader_beat_ms_.load() <= within.count();
}

void DeliveryWorker::replaceProcessors(std::shared_ptr<const Processors> processors) {
  std::lock_guard lock(mutex_);
  knowWorkers(*processors);
  processors_ = std::move(processors);
}

WorkerCounts DeliveryWorker::counts() const {
  return WorkerCounts{acknowledged_.load(), retries_.load(), dead_letters_.load()};
}

int DeliveryWorker::freeSlots(Clock::time_point now) const {
  int ready = 0;
  for (auto it = jobs_.begin(); it != jobs_.end() && it->first <= now; ++it)
    ++ready;
  const int room = options_.concurrency * kHeldPerSlot - static_cast<int>(held_.size());
  return std::min(options_.concurrency - running_ - ready, room);
}

void DeliveryWorker::schedule(Job job, Clock::time_point when) {
  {
    std::lock_guard lock(mutex_);
    held_.insert(job.entry_id);
    jobs_.emplace(when, std::move(job));
  }
  job_added_.notify_one();
}

void DeliveryWorker::adopt(std::string entry_id) {
  {
    std::lock_guard lock(mutex_);
    if (!held_.insert(entry_id).second) return;
    // Its payload and progress (attempts, outcomes, when the next attempt is due) are read
    // when it runs: a long list taken back at start-up holds only ids.
    jobs_.emplace(Clock::now(),
                  Job{std::move(entry_id), std::nullopt, std::nullopt, std::nullopt, {}, {}});
  }
  job_added_.notify_one();
}

void DeliveryWorker::release(const std::string& entry_id) {
  std::lock_guard lock(mutex_);
  held_.erase(entry_id);
}

void DeliveryWorker::readLoop() {
  std::unique_ptr<store::RedisConnection> connection;
  bool redis_down = false;
  bool group_ready = false;
  bool took_back = false;
  auto next_upkeep = Clock::now();
  const auto upkeep_every =
      std::max<std::chrono::milliseconds>(options_.claim_idle / 4, std::chrono::milliseconds(250));
  auto next_lease_refresh = Clock::now() + options_.lease_lifetime / 3;
  auto next_sweep = Clock::now() + options_.claim_idle;

  while (true) {
    reader_beat_ms_ =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count();
    {
      std::unique_lock lock(mutex_);
      // Read only when there is room: what is read is held by this process until processed.
      job_ended_.wait_until(lock, std::min(next_upkeep, Clock::now() + kReadBlock),
                            [&] { return stopping_ || freeSlots(Clock::now()) > 0; });
      if (stopping_) return;
      if (name_lost_) {
        // Nothing more to do here: another process works under this name.
        job_ended_.wait(lock, [this] { return stopping_; });
        return;
      }
    }
    try {
      if (!group_ready) {
        // A worker may start before any server has made the group; and a Redis that lost its
        // data (FLUSHALL, a new instance) needs it made again.
        queue::DeliveryQueue(redis_).ensureConsumerGroup();
        group_ready = true;
      }
      if (!lease_held_ || Clock::now() >= next_lease_refresh) {
        if (!holdName()) continue;
        next_lease_refresh = Clock::now() + options_.lease_lifetime / 3;
      }
      if (!took_back) {
        takeBackOwnPending();  // once: afterwards everything pending here is held already
        took_back = true;
      }
      if (Clock::now() >= next_upkeep) {
        keepHoldingAndClaim();
        next_upkeep = Clock::now() + upkeep_every;
      }
      if (Clock::now() >= next_sweep) {
        removeGoneConsumers();
        next_sweep = Clock::now() + options_.claim_idle;
      }
      int free = 0;
      {
        std::lock_guard lock(mutex_);
        free = freeSlots(Clock::now());
      }
      if (free <= 0) continue;
      if (!connection || connection->broken()) {
        connection = std::make_unique<store::RedisConnection>(redis_.endpoint(),
                                                              options_.redis_timeout + kReadBlock);
      }
      auto deliveries = consumer_.readNew(*connection, free, kReadBlock);
      if (redis_down) {
        spdlog::info("Redis answers again: reading deliveries");
        redis_down = false;
      }
      const auto now = Clock::now();
      for (auto& delivery : deliveries) {
        std::string id = delivery.entry_id;
        schedule(Job{std::move(id),
                     std::move(delivery),
                     queue::DeliveryProgress{},
                     std::nullopt,
                     {},
                     {}},
                 now);
      }
    } catch (const std::exception& e) {
      if (!redis_down) {
        spdlog::warn("cannot read deliveries from Redis at {}: {}; trying again every {} s",
                     redis_.endpoint().describe(), e.what(), kRedisPause.count());
        redis_down = true;
      }
      connection.reset();
      group_ready = false;
      std::unique_lock lock(mutex_);
      job_ended_.wait_for(lock, kRedisPause, [this] { return stopping_; });
    }
  }
}

void DeliveryWorker::takeBackOwnPending() {
  std::string after = "0";
  size_t taken = 0;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    auto page = consumer_.readOwnPending(100, after);
    for (auto& delivery : page.entries) {
      adopt(std::move(delivery.entry_id));
      ++taken;
    }
    if (page.last_id.empty()) break;
    after = page.last_id;
  }
  if (taken > 0) {
    spdlog::info("took back {} deliveries this worker process ({}) had left pending", taken,
                 consumer_.consumerName());
  }
}

bool DeliveryWorker::holdName() {
  if (!lease_held_) {
    try {
      lease_.acquire();
      lease_held_ = true;
      return true;
    } catch (const queue::ConsumerNameTaken& e) {
      loseName(e.what());
      return false;
    }
  }
  if (lease_.refresh() == queue::ConsumerLease::Refresh::kLost) {
    loseName(
        fmt::format("another worker process took the consumer name `{}` while this one did "
                    "not answer (stalled longer than {} ms)",
                    lease_.name(), lease_.lifetime().count()));
    return false;
  }
  return true;
}

void DeliveryWorker::loseName(const std::string& why) {
  spdlog::error(
      "{}: this worker process stops processing deliveries; restart it with another "
      "`consumer_name` if both are to run",
      why);
  std::lock_guard lock(mutex_);
  name_lost_ = true;
  jobs_.clear();
  held_.clear();
}

void DeliveryWorker::removeGoneConsumers() {
  for (const auto& name :
       consumer_.removeGoneConsumers(options_.claim_idle * kGoneAfterClaimIdles)) {
    spdlog::info("removed consumer {} from the group {}: gone, holding nothing", name,
                 queue::QueueNames::kGroup);
  }
}

bool DeliveryWorker::stillOurs(const Job& job) {
  if (!name_lost_ && consumer_.owns(job.entry_id)) return true;
  spdlog::info(
      "entry {}: taken over by another worker process while this one stalled; left "
      "to that one",
      job.entry_id);
  release(job.entry_id);
  return false;
}

void DeliveryWorker::keepHoldingAndClaim() {
  std::vector<std::string> held;
  {
    std::lock_guard lock(mutex_);
    held.assign(held_.begin(), held_.end());
  }
  for (size_t start = 0; start < held.size(); start += kHoldBatch) {
    const size_t end = std::min(held.size(), start + kHoldBatch);
    auto lost = consumer_.keepHolding({held.begin() + start, held.begin() + end});
    if (lost.empty()) continue;
    std::lock_guard lock(mutex_);
    for (const auto& id : lost) {
      // Finished here since the list was made: not lost, just done.
      if (held_.count(id) == 0) continue;
      // Another consumer took it (this process had stalled past claim_idle): that one finishes
      // it. One being processed here goes on, but its acknowledgement will find the entry is
      // not its own any more and change nothing.
      spdlog::info(
          "entry {}: taken over by another worker process while this one did not "
          "answer; left to that one",
          id);
      for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
        if (it->second.entry_id == id) {
          jobs_.erase(it);
          held_.erase(id);
          break;
        }
      }
    }
  }

  int free = 0;
  {
    std::lock_guard lock(mutex_);
    free = freeSlots(Clock::now());
  }
  if (free <= 0) return;
  auto claimed = consumer_.claimIdle(options_.claim_idle, free, claim_cursor_);
  claim_cursor_ = claimed.next_cursor;
  for (auto& delivery : claimed.entries) {
    spdlog::info("{}: taken over from a worker process that left it pending", describe(delivery));
    adopt(std::move(delivery.entry_id));
  }
}

void DeliveryWorker::executeLoop() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      while (true) {
        if (stopping_) return;
        if (!jobs_.empty() && jobs_.begin()->first <= Clock::now()) break;
        if (jobs_.empty()) {
          job_added_.wait(lock);
        } else {
          // A copy: the job may be taken by another executor while this one waits.
          const Clock::time_point due = jobs_.begin()->first;
          job_added_.wait_until(lock, due);
        }
      }
      job = std::move(jobs_.begin()->second);
      jobs_.erase(jobs_.begin());
      ++running_;
      // Several may have come due at once while the others slept without a deadline.
      if (!jobs_.empty() && jobs_.begin()->first <= Clock::now()) job_added_.notify_one();
    }
    run(job);
    {
      std::lock_guard lock(mutex_);
      --running_;
    }
    // The reader may have room to read again, and stop() may be waiting for the last one.
    job_ended_.notify_all();
  }
}

void DeliveryWorker::run(Job& job) {
  std::shared_ptr<const Processors> processors;
  {
    std::lock_guard lock(mutex_);
    processors = processors_;
  }
  if (name_lost_) return;  // another process works under this name: it holds what this held
  // The delivery's fields for every line written about it, once it is known.
  logging::LogScope log_scope;
  try {
    if (job.decided) {
      commit(job);  // the processors answered; only Redis has yet to hear it
      return;
    }
    if (!job.delivery) {
      job.delivery = consumer_.fetch(job.entry_id);
      if (!job.delivery) {
        // Deleted: another consumer finished it. Forget it (and acknowledge it if still ours).
        consumer_.finish(job.entry_id, {}, 0, {});
        release(job.entry_id);
        return;
      }
    }
    log_scope.delivery(job.delivery->delivery_id)
        .provider(job.delivery->provider)
        .repoId(job.delivery->repo_id);
    // The schema before anything else: what an older release reads of a newer entry (its
    // progress, its attempts) is no ground for deciding anything about it.
    if (!job.delivery->schema.empty() && job.delivery->schema != kSchema) {
      // Let it go without acknowledging it: a newer worker process takes it over after
      // claim_idle_ms.
      spdlog::warn(
          "{}: its schema {} is newer than this release's ({}); left for a newer worker "
          "process",
          describe(*job.delivery), job.delivery->schema, kSchema);
      release(job.entry_id);
      return;
    }
    if (!job.progress && !resume(job, *processors)) return;
    attempt(job, *processors);
  } catch (const std::exception& e) {
    // Redis failed. What the processors answered is kept on the job, so the next try only
    // writes it; nothing is counted as an attempt.
    spdlog::warn("entry {}: Redis failed ({}); trying again in {} s", job.entry_id, e.what(),
                 kRedisPause.count());
    schedule(std::move(job), Clock::now() + kRedisPause);
  }
}

bool DeliveryWorker::resume(Job& job, const Processors& processors) {
  job.progress = consumer_.loadProgress(job.entry_id);
  if (job.progress->started > job.progress->attempts) {
    // Its last attempt started and never ended: the process running it died during it. That
    // counts (a plugin that crashes the process must not crash every process in turn), where a
    // restart while it waited for a retry does not.
    std::vector<std::string> workers;
    for (const auto& processor : processors)
      workers.push_back(processor->worker());
    job.decided = decideAfterCutShort(*job.progress, workers, options_.retry, jitter());
    // For the log: each worker the attempt was running for ends as the queue has it now.
    job.answered.clear();
    job.log_key = keyOf(*job.delivery);
    for (const auto& worker : workers) {
      if (job.progress->done.count(worker) != 0 || job.progress->failed.count(worker) != 0) {
        continue;
      }
      std::string outcome = "retry";
      std::string message = job.decided->retry_reasons;
      for (const auto& letter : job.decided->dead_letters) {
        if (letter.worker != worker) continue;
        outcome = "failed";
        message = letter.error;
      }
      job.answered.push_back(
          {worker, outcome, message, {{queue::unixTimeMs(), outcome, message}}, {}});
    }
    commit(job);
    return false;
  }
  // due_ms is the wall clock of the process that wrote it, maybe another machine's: one set
  // far ahead (a clock wrong by a year) must not hold the delivery that long. No retry waits
  // longer than the policy's longest delay and its jitter.
  const int64_t longest_ms = options_.retry.longestDelay().count() / 10 * 11 + 1000;
  const int64_t wait_ms = std::min(job.progress->due_ms - queue::unixTimeMs(), longest_ms);
  if (wait_ms > 0) {
    job.delivery.reset();  // fetched again when due
    schedule(std::move(job), Clock::now() + std::chrono::milliseconds(wait_ms));
    return false;
  }
  return true;
}

void DeliveryWorker::attempt(Job& job, const Processors& processors) {
  const auto& delivery = *job.delivery;
  const auto& progress = *job.progress;
  const int attempt_number = progress.attempts + 1;

  // Recorded before any processor is called, and only while the delivery is this consumer's.
  if (!consumer_.markStarted(job.entry_id, attempt_number)) {
    spdlog::info("{}: taken over by another worker process; left to that one", describe(delivery));
    release(job.entry_id);
    return;
  }
  std::vector<WorkerAnswer> answers;
  std::string error;
  const auto event = normalize(delivery, error);
  logStarted(delivery, attempt_number, event ? std::string_view(event->kind) : "",
             event ? std::string_view(event->url) : "");
  job.answered.clear();
  job.log_key = keyOf(delivery);
  if (event) {
    const plugin::DeliveryFacts facts{delivery.entry_id,
                                      delivery.provider,
                                      delivery.repo_id,
                                      delivery.repo_path,
                                      delivery.delivery_id,
                                      delivery.payload,
                                      static_cast<uint32_t>(attempt_number)};
    bool first = true;
    for (const auto& processor : processors) {
      const std::string& worker = processor->worker();
      if (progress.done.count(worker) || progress.failed.count(worker)) continue;
      // The first call is covered by markStarted(); a later one may come after a stall.
      if (!first && !stillOurs(job)) return;
      first = false;
      auto outcome = processor->process(*event, facts);
      WorkerAnswer answer{worker, WorkerAnswer::Kind::kOk, outcome.retry_after,
                          std::move(outcome.message)};
      if (outcome.kind == plugin::ProcessOutcome::Kind::kFailed) {
        answer.kind = WorkerAnswer::Kind::kFailed;
      } else if (outcome.kind == plugin::ProcessOutcome::Kind::kRetry) {
        answer.kind = WorkerAnswer::Kind::kRetry;
      }
      const std::string said(outcomeName(answer.kind));
      job.answered.push_back({worker,
                              said,
                              answer.message,
                              {{queue::unixTimeMs(), said, answer.message}},
                              std::move(outcome.actions)});
      answers.push_back(std::move(answer));
    }
  } else {
    for (const auto& processor : processors) {
      if (progress.done.count(processor->worker())) continue;
      answers.push_back({processor->worker(), WorkerAnswer::Kind::kFailed, {}, error});
      job.answered.push_back(
          {processor->worker(), "failed", error, {{queue::unixTimeMs(), "failed", error}}, {}});
    }
  }
  job.decided = decideAfterAttempt(progress, answers, attempt_number, options_.retry, jitter());
  if (options_.on_attempt) options_.on_attempt(AttemptReport{delivery, answers, *job.decided});
  // A worker whose retry used up the attempts has failed: so says its part of the record (its
  // attempt keeps what the plugin answered).
  for (auto& answered : job.answered) {
    for (const auto& letter : job.decided->dead_letters) {
      if (letter.worker != answered.worker || answered.outcome != "retry") continue;
      answered.outcome = "failed";
      answered.message = letter.error;
    }
  }
  commit(job);
}

void DeliveryWorker::commit(Job& job) {
  const RetryDecision& decision = *job.decided;
  const std::string what =
      job.delivery ? describe(*job.delivery) : fmt::format("entry {}", job.entry_id);
  const int attempts = decision.progress.attempts;

  if (decision.finish) {
    const bool ours =
        consumer_.finish(job.entry_id, decision.dead_letters, attempts, checkpointKeys(job));
    release(job.entry_id);
    if (!ours) {
      spdlog::info("{}: another worker process had taken it over; left to that one", what);
      return;
    }
    acknowledged_.fetch_add(1);
    dead_letters_.fetch_add(decision.dead_letters.size());
    for (const auto& letter : decision.dead_letters) {
      spdlog::error("{}: worker `{}` failed for good after {} attempt(s), dead-lettered to {}: {}",
                    what, letter.worker, attempts, queue::DeliveryConsumer::kDeadLetterStream,
                    letter.error);
    }
    spdlog::debug("{}: done after {} attempt(s)", what, attempts);
    // Only now that the queue has it: a record never says done of what may still run again.
    if (decision.dead_letters.empty()) {
      // Done, or ignored when every worker reported only `ignored`: the log decides over every
      // worker's part, earlier attempts' included.
      logEnded(job, queue::DeliveryStatus::kDone, {}, 0);
    } else {
      std::string reason;
      for (const auto& letter : decision.dead_letters)
        reason += fmt::format("{}{}: {}", reason.empty() ? "" : "; ", letter.worker, letter.error);
      logEnded(job, queue::DeliveryStatus::kDead, reason, 0);
    }
    return;
  }

  queue::DeliveryProgress progress = decision.progress;
  progress.due_ms = queue::unixTimeMs() + decision.retry_in.count();
  if (!consumer_.saveProgress(job.entry_id, progress)) {
    spdlog::info("{}: another worker process had taken it over; left to that one", what);
    release(job.entry_id);
    return;
  }
  retries_.fetch_add(1);
  spdlog::warn("{}: attempt {} of {} to be retried in {} ms: {}", what, attempts,
               options_.retry.maxAttempts(), decision.retry_in.count(), decision.retry_reasons);
  logEnded(job, queue::DeliveryStatus::kRetrying, decision.retry_reasons, progress.due_ms);
  const auto retry_in = decision.retry_in;
  job.progress = std::move(progress);
  job.decided.reset();
  job.delivery.reset();  // fetched again when due: a backlog of retries holds no payloads
  schedule(std::move(job), Clock::now() + retry_in);
}

void DeliveryWorker::logStarted(const queue::QueuedDelivery& delivery, int attempt,
                                std::string_view kind, std::string_view url) {
  try {
    log_.attemptStarted(keyOf(delivery), delivery.entry_id, attempt, kind, url);
  } catch (const std::exception& e) {
    spdlog::warn("{}: delivery log not updated (attempt {} started): {}", describe(delivery),
                 attempt, e.what());
  }
}

void DeliveryWorker::logEnded(Job& job, queue::DeliveryStatus status, std::string_view reason,
                              int64_t next_attempt_ms) {
  try {
    log_.attemptEnded(job.log_key, job.entry_id, job.answered, status, reason, next_attempt_ms);
  } catch (const std::exception& e) {
    spdlog::warn("delivery {} (entry {}): delivery log not updated ({}): {}",
                 job.log_key.delivery_id, job.entry_id, queue::statusName(status), e.what());
  }
  job.answered.clear();
}

std::vector<std::string> DeliveryWorker::checkpointKeys(const Job& job) {
  std::vector<std::string> keys;
  if (!job.delivery) return keys;  // they expire by themselves
  const std::string identity = plugin::CheckpointStore::deliveryIdentity(
      job.delivery->provider, job.delivery->repo_id, job.delivery->delivery_id, job.entry_id);
  // Every worker that may have kept some: those in force now, those a reload removed (their
  // keys must not expire sooner than the others'), and those the progress names (a reload in
  // another process, before this one took the delivery over).
  std::set<std::string> workers;
  {
    std::lock_guard lock(mutex_);
    workers = known_workers_;
  }
  if (job.decided) {
    const auto& progress = job.decided->progress;
    workers.insert(progress.done.begin(), progress.done.end());
    for (const auto& failed : progress.failed)
      workers.insert(failed.first);
  }
  for (const auto& worker : workers)
    keys.push_back(plugin::CheckpointStore::redisKey(identity, worker));
  return keys;
}

void DeliveryWorker::knowWorkers(const Processors& processors) {
  for (const auto& processor : processors)
    known_workers_.insert(processor->worker());
}

}  // namespace conduit::worker
