#pragma once

#include <chrono>
#include <vector>

namespace conduit::worker {

// When a delivery's next attempt comes, and how many attempts it gets. Either a schedule (the
// delay after each attempt, in order: `retry_schedule`) or the older exponential backoff
// (`retry_initial_ms` doubling up to `retry_max_ms`, for `retry_max_attempts`). Both jitter
// each delay, so that the retries after an outage do not all come at the same instant.
struct RetryPolicy {
  // The exponential backoff, in force when `schedule` is empty.
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{600000};
  int max_attempts = 10;
  // The delay after attempt 1, 2, ...: schedule.size() + 1 attempts in all.
  std::vector<std::chrono::milliseconds> schedule;

  static RetryPolicy exponential(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                 int max_attempts);
  static RetryPolicy fromSchedule(std::vector<std::chrono::milliseconds> delays);

  // Attempts before a delivery still asking for retries is dead-lettered.
  int maxAttempts() const;

  // The longest delay the policy waits between two attempts (without jitter).
  std::chrono::milliseconds longestDelay() const;

  // The wait after `attempts` finished attempts (1 or more), `jitter` in [0, 1) picking where
  // in the spread it falls:
  // - a schedule: its delay for that attempt (the last one past its end), 10 % either way;
  // - exponential: initial * 2^(attempts-1), capped at max, of which a random half is taken
  //   away.
  // A delay the plugin asked for (Retry-After) is waited when it is longer, up to
  // longestDelay(); never shorter than the policy's own, so that answers asking to wait
  // cannot use the attempts up faster than the policy would.
  std::chrono::milliseconds delayAfter(int attempts, double jitter,
                                       std::chrono::milliseconds asked = {}) const;
};

}  // namespace conduit::worker
