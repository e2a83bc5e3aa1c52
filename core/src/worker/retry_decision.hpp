#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "queue/delivery_progress.hpp"
#include "worker/retry_policy.hpp"

namespace conduit::worker {

// One processor's answer to one attempt.
struct WorkerAnswer {
  enum class Kind { kOk, kRetry, kFailed };
  std::string worker;
  Kind kind = Kind::kOk;
  std::chrono::milliseconds retry_after{0};  // kRetry: the delay it asked for, or 0
  std::string message;                       // kRetry and kFailed: why
};

// What to do with a delivery after an attempt: acknowledge it (with a dead letter for each
// worker that failed for good), or try it again after `retry_in`. `progress` is what to record
// either way (the attempt counted, the workers done or failed); the caller sets its due_ms.
struct RetryDecision {
  bool finish = false;
  std::vector<queue::FailedWorker> dead_letters;
  std::chrono::milliseconds retry_in{0};
  std::string retry_reasons;
  queue::DeliveryProgress progress;
};

// The decision after attempt number `attempt`, given the progress before it and the answers of
// the workers it called (the ones not done or failed before). It finishes when no worker asks
// for a retry, or when `attempt` used up the policy's attempts; otherwise it retries after the
// policy's delay, or the longest one a worker asked for when longer (see delayAfter()).
// `jitter` in [0, 1) places the delay in its spread: a pure function, for tests.
RetryDecision decideAfterAttempt(const queue::DeliveryProgress& progress,
                                 const std::vector<WorkerAnswer>& answers, int attempt,
                                 const RetryPolicy& policy, double jitter);

// The decision for a delivery whose last attempt started and never ended (progress.started >
// progress.attempts): the process running it died during it, maybe killed by a plugin. That
// attempt counts, so that a delivery that kills every process that runs it is dead-lettered
// once its attempts are used up; until then it waits the policy's delay, as after a retry.
// `workers` are the workers configured now: those neither done nor failed get the dead letters
// then, besides every worker that failed for good (configured now or not).
RetryDecision decideAfterCutShort(const queue::DeliveryProgress& progress,
                                  const std::vector<std::string>& workers,
                                  const RetryPolicy& policy, double jitter);

}  // namespace conduit::worker
