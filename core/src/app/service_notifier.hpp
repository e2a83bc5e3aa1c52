#pragma once

#include <condition_variable>
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
  // this process): a keep-alive every half of it, so that a process that hangs whole is killed
  // and restarted.
  ServiceNotifier();
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  void ready(std::string_view status);
  void reloading();
  void stopping(std::string_view status);

 private:
  void feedWatchdog(long long interval_us);

  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopped_ = false;
  std::thread watchdog_;
};

}  // namespace conduit::app
