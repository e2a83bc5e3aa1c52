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
  // this process): a keep-alive every half of it, as long as `healthy` says so (always, when
  // none is given). A process that stops feeding it is killed and restarted.
  explicit ServiceNotifier(std::function<bool()> healthy = {});
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  void ready(std::string_view status);
  void reloading();
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
