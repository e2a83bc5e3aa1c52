#include "worker/retry_policy.hpp"

#include <algorithm>

namespace conduit::worker {

RetryPolicy RetryPolicy::exponential(std::chrono::milliseconds initial,
                                     std::chrono::milliseconds max, int max_attempts) {
  RetryPolicy policy;
  policy.initial = initial;
  policy.max = max;
  policy.max_attempts = max_attempts;
  return policy;
}

RetryPolicy RetryPolicy::fromSchedule(std::vector<std::chrono::milliseconds> delays) {
  RetryPolicy policy;
  policy.schedule = std::move(delays);
  return policy;
}

int RetryPolicy::maxAttempts() const {
  return schedule.empty() ? max_attempts : static_cast<int>(schedule.size()) + 1;
}

std::chrono::milliseconds RetryPolicy::longestDelay() const {
  if (schedule.empty()) return max;
  return *std::max_element(schedule.begin(), schedule.end());
}

std::chrono::milliseconds RetryPolicy::delayAfter(int attempts, double jitter,
                                                  std::chrono::milliseconds asked) const {
  const double clamped = std::clamp(jitter, 0.0, 1.0);
  int64_t delay = 0;
  if (!schedule.empty()) {
    const size_t index =
        std::clamp<size_t>(attempts < 1 ? 0 : attempts - 1, 0, schedule.size() - 1);
    const auto base = static_cast<double>(schedule[index].count());
    delay = static_cast<int64_t>(base * 0.9 + base * 0.2 * clamped);
  } else {
    // Doubling stops once past the ceiling, so large attempt counts cannot overflow.
    int64_t base = initial.count();
    for (int i = 1; i < attempts && base < max.count(); ++i)
      base *= 2;
    base = std::min<int64_t>(base, max.count());
    delay = base - static_cast<int64_t>(static_cast<double>(base) / 2 * clamped);
  }
  const int64_t wanted = std::min(asked.count(), longestDelay().count());
  return std::chrono::milliseconds(std::max(delay, wanted));
}

}  // namespace conduit::worker
