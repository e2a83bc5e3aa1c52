#pragma once

#include <chrono>

namespace conduit::worker {

// When a delivery's next attempt comes: exponential backoff with jitter, so that a Jira outage
// does not end in every worker process retrying everything at the same instant.
struct RetryPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{600000};
  int max_attempts = 10;

  // The wait after `attempts` finished attempts (1 or more): initial * 2^(attempts-1), capped at
  // max, of which a random half is taken away (`jitter` in [0, 1) picks how much). A delay the
  // plugin asked for (Retry-After) wins, capped at max as well.
  std::chrono::milliseconds delayAfter(int attempts, double jitter,
                                       std::chrono::milliseconds asked = {}) const;
};

}  // namespace conduit::worker
