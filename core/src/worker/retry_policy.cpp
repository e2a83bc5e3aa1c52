#include "worker/retry_policy.hpp"

#include <algorithm>

namespace conduit::worker {

std::chrono::milliseconds RetryPolicy::delayAfter(int attempts, double jitter,
                                                  std::chrono::milliseconds asked) const {
  if (asked.count() > 0) return std::min(asked, max);
  // Doubling stops once past the ceiling, so large attempt counts cannot overflow.
  int64_t base = initial.count();
  for (int i = 1; i < attempts && base < max.count(); ++i)
    base *= 2;
  base = std::min<int64_t>(base, max.count());
  const double clamped = std::clamp(jitter, 0.0, 1.0);
  const auto spread = static_cast<int64_t>(static_cast<double>(base) / 2 * clamped);
  return std::chrono::milliseconds(base - spread);
}

}  // namespace conduit::worker
