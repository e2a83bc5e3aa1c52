#include "worker/delivery_worker.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/checkpoint_store.hpp"
#include "providers/github_event.hpp"
#include "queue/delivery_queue.hpp"

namespace conduit::worker {
namespace {

// How long one XREADGROUP waits for new deliveries: also how long a stop waits for the reader.
constexpr std::chrono::milliseconds kReadBlock{500};
// How long to wait before trying Redis again after it failed.
constexpr std::chrono::seconds kRedisPause{1};
// At most this many ids per idle-time refresh, to keep each script run short.
constexpr size_t kHoldBatch = 500;
// The entry schema this release reads (see queue/delivery_queue.cpp).
constexpr std::string_view kSchema = "1";

int64_t nowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double jitter() {
  thread_local std::mt19937 random{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(random);
}

// The event a processor sees, from the delivery's provider and payload.
std::optional<providers::Event> normalize(const queue::QueuedDelivery& delivery,
                                          std::string& error) {
  if (delivery.provider == "github") {
    return providers::normalizeGitHubEvent(delivery.event, delivery.payload, error);
  }
  error = fmt::format("no provider `{}` in this release", delivery.provider);
  return std::nullopt;
}

std::string describe(const queue::QueuedDelivery& delivery) {
  return fmt::format("delivery {} ({} {}, entry {})", delivery.delivery_id, delivery.repo_path,
                     delivery.event, delivery.entry_id);
}

}  // namespace

DeliveryWorker::DeliveryWorker(store::RedisPool& redis, WorkerOptions options,
                               std::vector<plugin::PluginInstance*> processors)
    : redis_(redis),
      options_(std::move(options)),
      processors_(std::move(processors)),
      consumer_(redis, options_.consumer_name) {}

DeliveryWorker::~DeliveryWorker() {
  if (reader_.joinable()) stop(std::chrono::milliseconds(0));
}

void DeliveryWorker::start() {
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
  return 0;
}

WorkerCounts DeliveryWorker::counts() const {
  return WorkerCounts{acknowledged_.load(), retries_.load(), dead_letters_.load()};
}

int DeliveryWorker::freeSlots(Clock::time_point now) const {
  int ready = 0;
  for (auto it = jobs_.begin(); it != jobs_.end() && it->first <= now; ++it)
    ++ready;
  return options_.concurrency - running_ - ready;
}

void DeliveryWorker::schedule(Job job, Clock::time_point when) {
  {
    std::lock_guard lock(mutex_);
    held_.insert(job.entry_id);
    jobs_.emplace(when, std::move(job));
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
  bool ready = false;  // the group exists and what this consumer left pending is taken back
  auto next_upkeep = Clock::now();
  const auto upkeep_every =
      std::max<std::chrono::milliseconds>(options_.claim_idle / 4, std::chrono::milliseconds(250));

  while (true) {
    {
      std::unique_lock lock(mutex_);
      // Read only when there is room: what is read is held by this process until processed.
      job_ended_.wait_until(lock, std::min(next_upkeep, Clock::now() + kReadBlock),
                            [&] { return stopping_ || freeSlots(Clock::now()) > 0; });
      if (stopping_) return;
    }
    try {
      if (!ready) {
        // A worker may start before any server has made the group; and a Redis that lost its
        // data (FLUSHALL, a new instance) needs it made again.
        queue::DeliveryQueue(redis_).ensureConsumerGroup();
        takeBackOwnPending();
        ready = true;
      }
      if (Clock::now() >= next_upkeep) {
        keepHoldingAndClaim();
        next_upkeep = Clock::now() + upkeep_every;
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
        schedule(Job{std::move(id), std::move(delivery), queue::DeliveryProgress{}}, now);
      }
    } catch (const std::exception& e) {
      if (!redis_down) {
        spdlog::warn("cannot read deliveries from Redis at {}: {}; trying again every {} s",
                     redis_.endpoint().describe(), e.what(), kRedisPause.count());
        redis_down = true;
      }
      connection.reset();
      ready = false;
      std::unique_lock lock(mutex_);
      job_ended_.wait_for(lock, kRedisPause, [this] { return stopping_; });
    }
  }
}

void DeliveryWorker::takeBackOwnPending() {
  std::string after = "0";
  size_t taken = 0;
  while (true) {
    auto page = consumer_.readOwnPending(100, after);
    for (auto& delivery : page.entries) {
      std::string id = delivery.entry_id;
      // Its progress (attempts, outcomes, when the next attempt is due) is read when it runs.
      schedule(Job{std::move(id), std::move(delivery), std::nullopt}, Clock::now());
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
      // Another consumer took it (this process had stalled past claim_idle): let that one
      // finish it. One being processed here goes on; its acknowledgement then does no harm.
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
    std::string id = delivery.entry_id;
    schedule(Job{std::move(id), std::move(delivery), std::nullopt}, Clock::now());
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
  try {
    if (!job.progress) {
      job.progress = consumer_.loadProgress(job.entry_id);
      const int64_t wait_ms = job.progress->due_ms - nowUnixMs();
      if (wait_ms > 0) {
        job.delivery.reset();
        schedule(std::move(job), Clock::now() + std::chrono::milliseconds(wait_ms));
        return;
      }
    }
    if (!job.delivery) {
      job.delivery = consumer_.fetch(job.entry_id);
      if (!job.delivery) {
        // Deleted: another consumer finished it while this one waited.
        consumer_.finish(job.entry_id, {}, job.progress->attempts, {});
        release(job.entry_id);
        return;
      }
    }
    attempt(job);
  } catch (const std::exception& e) {
    // Redis failed between the processors and the acknowledgement: the outcomes are kept here,
    // so the next try only finishes what is left. Not an attempt: nothing was wrong with it.
    spdlog::warn("entry {}: Redis failed ({}); trying again in {} ms", job.entry_id, e.what(),
                 options_.retry.initial.count());
    schedule(std::move(job), Clock::now() + options_.retry.initial);
  }
}

void DeliveryWorker::attempt(Job& job) {
  const auto& delivery = *job.delivery;
  auto& progress = *job.progress;
  const int attempt_number = progress.attempts + 1;

  struct RetryAsk {
    std::string worker;
    std::string message;
    std::chrono::milliseconds after;
  };
  std::vector<RetryAsk> retries;

  std::string error;
  std::optional<providers::Event> event;
  if (!delivery.schema.empty() && delivery.schema != kSchema) {
    // Written by a newer release: another worker process may read it.
    retries.push_back({"conduit",
                       fmt::format("the entry's schema {} is newer than this release's ({})",
                                   delivery.schema, kSchema),
                       {}});
  } else if (!(event = normalize(delivery, error))) {
    for (const auto* processor : processors_) {
      if (!progress.done.count(processor->worker())) progress.failed[processor->worker()] = error;
    }
  } else {
    const plugin::DeliveryFacts facts{delivery.entry_id,
                                      delivery.provider,
                                      delivery.repo_id,
                                      delivery.repo_path,
                                      delivery.delivery_id,
                                      delivery.payload,
                                      static_cast<uint32_t>(attempt_number)};
    for (auto* processor : processors_) {
      const std::string& worker = processor->worker();
      if (progress.done.count(worker) || progress.failed.count(worker)) continue;
      auto outcome = processor->process(*event, facts);
      switch (outcome.kind) {
        case plugin::ProcessOutcome::Kind::kOk:
          progress.done.insert(worker);
          break;
        case plugin::ProcessOutcome::Kind::kFailed:
          progress.failed[worker] = outcome.message;
          break;
        case plugin::ProcessOutcome::Kind::kRetry:
          retries.push_back({worker, outcome.message, outcome.retry_after});
          break;
      }
    }
  }
  progress.attempts = attempt_number;

  const bool out_of_attempts = attempt_number >= options_.retry.max_attempts;
  if (retries.empty() || out_of_attempts) {
    std::vector<queue::DeadLetter> letters;
    for (const auto& [worker, why] : progress.failed)
      letters.push_back({worker, why});
    for (const auto& ask : retries) {
      letters.push_back(
          {ask.worker, fmt::format("gave up after {} attempts: {}", attempt_number, ask.message)});
    }
    consumer_.finish(delivery.entry_id, letters, attempt_number, checkpointKeys(delivery.entry_id));
    release(job.entry_id);
    acknowledged_.fetch_add(1);
    dead_letters_.fetch_add(letters.size());
    for (const auto& letter : letters) {
      spdlog::error("{}: worker `{}` failed for good after {} attempt(s), dead-lettered to {}: {}",
                    describe(delivery), letter.worker, attempt_number,
                    queue::DeliveryConsumer::kDeadLetterStream, letter.error);
    }
    spdlog::debug("{}: done after {} attempt(s)", describe(delivery), attempt_number);
    return;
  }

  std::chrono::milliseconds asked{0};
  std::string reasons;
  for (const auto& ask : retries) {
    asked = std::max(asked, ask.after);
    reasons += fmt::format("{}{}: {}", reasons.empty() ? "" : "; ", ask.worker, ask.message);
  }
  const auto delay = options_.retry.delayAfter(attempt_number, jitter(), asked);
  progress.last_error = reasons;
  progress.due_ms = nowUnixMs() + delay.count();
  consumer_.saveProgress(delivery.entry_id, progress);
  retries_.fetch_add(1);
  spdlog::warn("{}: attempt {} of {} to be retried in {} ms: {}", describe(delivery),
               attempt_number, options_.retry.max_attempts, delay.count(), reasons);
  job.delivery.reset();  // fetched again when due: a backlog of retries holds no payloads
  schedule(std::move(job), Clock::now() + delay);
}

std::vector<std::string> DeliveryWorker::checkpointKeys(const std::string& entry_id) const {
  std::vector<std::string> keys;
  for (const auto* processor : processors_)
    keys.push_back(plugin::CheckpointStore::redisKey(entry_id, processor->worker()));
  return keys;
}

}  // namespace conduit::worker
