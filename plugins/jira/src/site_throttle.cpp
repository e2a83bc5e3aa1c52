#include "site_throttle.hpp"

#include <algorithm>
#include <map>

namespace conduit::jira {

std::shared_ptr<SiteThrottle> SiteThrottle::of(const std::string& site,
                                               double max_requests_per_second) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<SiteThrottle>> sites;
  std::lock_guard lock(mutex);
  for (auto it = sites.begin(); it != sites.end();) {
    it = it->second.expired() ? sites.erase(it) : std::next(it);
  }
  if (auto it = sites.find(site); it != sites.end()) {
    if (auto shared = it->second.lock()) {
      shared->limit(max_requests_per_second);
      return shared;
    }
  }
  auto made = std::make_shared<SiteThrottle>(max_requests_per_second);
  sites[site] = made;
  return made;
}

SiteThrottle::SiteThrottle(double max_requests_per_second) : refilled_(Clock::now()) {
  limit(max_requests_per_second);
}

void SiteThrottle::limit(double max_requests_per_second) {
  std::lock_guard lock(mutex_);
  if (!(max_requests_per_second > 0)) return;
  if (rate_ > 0 && rate_ <= max_requests_per_second) return;
  const bool first = rate_ == 0;
  rate_ = max_requests_per_second;
  capacity_ = std::max(1.0, rate_);
  tokens_ = first ? capacity_ : std::min(tokens_, capacity_);
  refilled_ = Clock::now();
}

SiteThrottle::Token SiteThrottle::reserve(Clock::time_point now, Clock::time_point latest) {
  std::lock_guard lock(mutex_);
  if (rate_ <= 0) return {true, now};
  // Callers' clocks are read before the lock: one a little behind the last refill adds nothing.
  if (now > refilled_) {
    tokens_ = std::min(capacity_,
                       tokens_ + std::chrono::duration<double>(now - refilled_).count() * rate_);
    refilled_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return {true, now};
  }
  const auto due =
      std::max(now, refilled_) + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>((1 - tokens_) / rate_));
  if (due > latest) return {false, due};
  tokens_ -= 1;
  return {true, due};
}

std::chrono::milliseconds SiteThrottle::wait() const {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  if (not_before_ <= now) return std::chrono::milliseconds(0);
  // Rounded up, so that a caller waiting this long is past it.
  return std::chrono::ceil<std::chrono::milliseconds>(not_before_ - now);
}

void SiteThrottle::hold(std::chrono::milliseconds wait) {
  std::lock_guard lock(mutex_);
  not_before_ = std::max(not_before_, Clock::now() + wait);
}

double SiteThrottle::maxRequestsPerSecond() const {
  std::lock_guard lock(mutex_);
  return rate_;
}

}  // namespace conduit::jira
