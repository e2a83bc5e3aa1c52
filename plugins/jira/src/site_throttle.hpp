#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace conduit::jira {

// What every JiraClient of one Jira site in this process shares, whatever worker or thread it
// serves: the site's not-before time, from a Retry-After (Jira asks the site's clients, not one
// connection, to wait), and the token bucket of atlassian_max_requests_per_second. Thread-safe.
//
// The bucket holds about one second's worth of requests (at least one) and starts full: a
// quiet site answers a burst at once, a busy one gets the rate. A caller reserves the next
// token and sleeps until it is due; reservations are served in the order they were made.
class SiteThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  // The throttle of `site` (scheme, host, port and base path), shared with every other holder
  // of the same site in the process; made when none holds it. `max_requests_per_second`: 0 is
  // no limit; where holders ask different limits, the strictest holds for all of them (one
  // process reads one app config, so they do not).
  static std::shared_ptr<SiteThrottle> of(const std::string& site, double max_requests_per_second);

  explicit SiteThrottle(double max_requests_per_second);
  SiteThrottle(const SiteThrottle&) = delete;
  SiteThrottle& operator=(const SiteThrottle&) = delete;

  // A token for one request. `granted`: `at` is when the request may leave (now when a token
  // was there). Not granted: `at`, the time a token would come, is past `latest`; nothing was
  // taken.
  struct Token {
    bool granted = true;
    Clock::time_point at;
  };
  Token reserve(Clock::time_point now, Clock::time_point latest);

  // How long the site asked to be left alone for yet (Retry-After); 0 when it did not.
  std::chrono::milliseconds wait() const;
  // No request leaves before `wait` from now (a later not-before time already set stays).
  void hold(std::chrono::milliseconds wait);

  double maxRequestsPerSecond() const;

 private:
  void limit(double max_requests_per_second);

  mutable std::mutex mutex_;
  double rate_ = 0;      // tokens per second; 0: no limit
  double capacity_ = 0;  // the burst: about one second's worth
  double tokens_ = 0;    // below 0: reserved ahead, by callers sleeping until theirs is due
  Clock::time_point refilled_;
  Clock::time_point not_before_;  // the epoch: none
};

}  // namespace conduit::jira
