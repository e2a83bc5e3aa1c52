#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

namespace conduit::app {

// Tells systemd how the service is doing, for units of Type=notify: ready, reloading, stopping,
// a status line for `systemctl status`, and the watchdog's keep-alive. Outside such a unit
// (no $NOTIFY_SOCKET) every call does nothing.
class ServiceNotifier {
 public:
  // Starts feeding the watchdog when the unit has WatchdogSec= (systemd sets $WATCHDOG_USEC for
  // this process): a keep-alive every half of it, as long as the health check says so (always,
  // while there is none). A process that stops feeding it is killed and restarted. Construct
  // after the stop signals are blocked: the feeding thread must not take them.
  ServiceNotifier();
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // From now on a keep-alive is sent only when `healthy` returns true. It is called from the
  // watchdog's thread, never after stopping() has returned.
  void watchHealth(std::function<bool()> healthy);

  void ready(std::string_view status);
  void reloading();
  // Also drops the health check: the parts it reads may be stopped and destroyed from now on,
  // and the watchdog is fed unconditionally until this object is destroyed, so that a drain
  // longer than WatchdogSec= is not taken for a hang.
  void stopping(std::string_view status);

 private:
  void feedWatchdog(long long interval_us);

  std::function<bool()> healthy_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopped_ = false;
  std::thread watchdog_;
};

}  // namespace conduit::app
