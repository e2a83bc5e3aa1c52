#include "worker/retry_decision.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace conduit::worker {

RetryDecision decideAfterAttempt(const queue::DeliveryProgress& progress,
                                 const std::vector<WorkerAnswer>& answers, int attempt,
                                 const RetryPolicy& policy, double jitter) {
  RetryDecision decision;
  decision.progress = progress;
  auto& next = decision.progress;
  next.attempts = std::max(attempt, progress.attempts);
  next.started = std::max(next.started, next.attempts);
  std::vector<const WorkerAnswer*> retries;
  for (const auto& answer : answers) {
    switch (answer.kind) {
      case WorkerAnswer::Kind::kOk:
        next.done.insert(answer.worker);
        break;
      case WorkerAnswer::Kind::kFailed:
        next.failed[answer.worker] = answer.message;
        break;
      case WorkerAnswer::Kind::kRetry:
        retries.push_back(&answer);
        break;
    }
  }

  if (retries.empty() || next.attempts >= policy.maxAttempts()) {
    decision.finish = true;
    for (const auto& [worker, why] : next.failed)
      decision.dead_letters.push_back({worker, why});
    for (const auto* ask : retries) {
      decision.dead_letters.push_back(
          {ask->worker, fmt::format("gave up after {} attempts: {}", next.attempts, ask->message)});
    }
    return decision;
  }
  std::chrono::milliseconds asked{0};
  for (const auto* ask : retries) {
    asked = std::max(asked, ask->retry_after);
    decision.retry_reasons += fmt::format("{}{}: {}", decision.retry_reasons.empty() ? "" : "; ",
                                          ask->worker, ask->message);
  }
  decision.retry_in = policy.delayAfter(next.attempts, jitter, asked);
  next.last_error = decision.retry_reasons;
  return decision;
}

RetryDecision decideAfterCutShort(const queue::DeliveryProgress& progress,
                                  const std::vector<std::string>& workers,
                                  const RetryPolicy& policy, double jitter) {
  RetryDecision decision;
  decision.progress = progress;
  auto& next = decision.progress;
  next.attempts = std::max(progress.started, progress.attempts);
  next.started = next.attempts;
  const std::string why = fmt::format(
      "attempt {} was cut short: the worker process running it stopped (was it killed, or did a "
      "plugin crash it?)",
      next.attempts);

  if (next.attempts >= policy.maxAttempts()) {
    decision.finish = true;
    // Every worker that failed for good gets its dead letter, as after an attempt that ended,
    // including one a reload has removed since.
    for (const auto& [worker, error] : next.failed)
      decision.dead_letters.push_back({worker, error});
    for (const auto& worker : workers) {
      if (next.done.count(worker) != 0 || next.failed.count(worker) != 0) continue;
      decision.dead_letters.push_back(
          {worker, fmt::format("gave up after {} attempts: {}", next.attempts, why)});
    }
    return decision;
  }
  decision.retry_reasons = why;
  decision.retry_in = policy.delayAfter(next.attempts, jitter);
  next.last_error = why;
  return decision;
}

}  // namespace conduit::worker
