#include "app/service_notifier.hpp"

#include <chrono>
#include <string>

#include <systemd/sd-daemon.h>

namespace conduit::app {

ServiceNotifier::ServiceNotifier() {
  uint64_t interval_us = 0;
  // True only when systemd asked this very process ($WATCHDOG_PID) for keep-alives.
  if (sd_watchdog_enabled(0, &interval_us) > 0 && interval_us > 0) {
    watchdog_ =
        std::thread([this, interval_us] { feedWatchdog(static_cast<long long>(interval_us)); });
  }
}

ServiceNotifier::~ServiceNotifier() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  stop_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void ServiceNotifier::watchHealth(std::function<bool()> healthy) {
  std::lock_guard lock(mutex_);
  healthy_ = std::move(healthy);
}

void ServiceNotifier::ready(std::string_view status) {
  sd_notify(0, ("READY=1\nSTATUS=" + std::string(status)).c_str());
}

void ServiceNotifier::reloading() {
  sd_notify(0, "RELOADING=1\nSTATUS=reloading the state machines and workers.yaml");
}

void ServiceNotifier::stopping(std::string_view status) {
  {
    // The watchdog's thread calls healthy_ with the lock held: once it is ours, no call of the
    // health check is running and none will start.
    std::lock_guard lock(mutex_);
    healthy_ = nullptr;
  }
  sd_notify(0, ("STOPPING=1\nSTATUS=" + std::string(status)).c_str());
}

void ServiceNotifier::feedWatchdog(long long interval_us) {
  const auto every = std::chrono::microseconds(interval_us / 2);
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    if (!healthy_ || healthy_()) sd_notify(0, "WATCHDOG=1");
    stop_.wait_for(lock, every, [this] { return stopped_; });
  }
}

}  // namespace conduit::app
