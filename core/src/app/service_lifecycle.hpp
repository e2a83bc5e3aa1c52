#pragma once

#include <signal.h>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "app/service_notifier.hpp"
#include "config/app_config.hpp"
#include "config/server_settings.hpp"
#include "config/worker_settings.hpp"

namespace conduit::app {

// What a long-running command reads from app.env before anything starts.
struct ServiceConfig {
  std::string path;
  std::optional<config::AppConfig> file;
  config::ServerSettings server;
  config::WorkerSettings worker;
};

// Reads and checks app.env (`path`, else the default one); prints every problem to standard
// error and returns nullopt when any is wrong (exit 2).
std::optional<ServiceConfig> readServiceConfig(const std::optional<std::string>& path);

// The exit status of a server that could not start because of `error`: 2 for a configuration
// the operator must fix (a spool_dir that cannot be used: another process holds it, or it
// cannot be written), 1 otherwise (the port is taken, for instance). Logs the error.
int startFailure(const std::exception& error);

// Which halves a process runs: they decide what the start-up notices are about.
enum class ServiceKind { kServer, kWorker, kServerAndWorker };

// The start-up and stop sequence that `conduit serve`, `conduit work` and `conduit run` share,
// so that the three say the same things at start and keep the same promise at stop:
//
//   ServiceLifecycle service(kind, config);   // signals blocked, logging set up, start logged
//   service.checkKeys(plugin_keys);           // keys of app.env that nothing reads
//   service.noteInsecureSettings();           // secrets in plain text, admin routes open
//   service.checkRedisDurability();           // a Redis that may drop deliveries
//   ... build and start the parts ...
//   service.ready(status, healthy);           // systemd told; the watchdog fed while healthy
//   service.waitForStop(reload);              // until SIGTERM or SIGINT; SIGHUP reloads
//   ... drain the parts within service.grace(), or exitNow() ...
//
// Once waitForStop() has returned, `healthy` is never called again, so the parts it reads can
// be stopped and destroyed in any order; the watchdog is still fed meanwhile, so a drain that
// is longer than WatchdogSec= is not taken for a hang.
class ServiceLifecycle {
 public:
  // Blocks SIGTERM, SIGINT and SIGHUP: construct before any thread starts.
  ServiceLifecycle(ServiceKind kind, const ServiceConfig& config);
  ~ServiceLifecycle();
  ServiceLifecycle(const ServiceLifecycle&) = delete;
  ServiceLifecycle& operator=(const ServiceLifecycle&) = delete;

  // Logs the keys of app.env that nothing in this process reads. `plugin_keys`: the keys the
  // loaded plugins declare; nullptr for `conduit serve`, which loads no plugin and so cannot
  // tell a plugin's key from a typo: it warns only about near misses of its own keys and
  // mentions the others once, as a notice.
  void checkKeys(const std::set<std::string, std::less<>>* plugin_keys) const;

  // Logs what the settings leave open: hook secrets in plain text, admin routes without token.
  void noteInsecureSettings() const;

  // Warns when Redis is set up so that it may drop accepted deliveries (an eviction policy, no
  // append-only file). A Redis that refuses CONFIG (a managed one) or is down is not warned
  // about: that is logged at debug level, and the start goes on.
  void checkRedisDurability() const;

  // Tells systemd the service is ready, and starts feeding its watchdog while `healthy` (when
  // given) says so. Called again after a reload with the new status.
  void ready(std::string_view status, std::function<bool()> healthy = {});

  // Waits for SIGTERM or SIGINT, calling `on_reload` for each SIGHUP meanwhile (serve has no
  // reload: it says so). Then tells systemd the service is stopping, stops calling `healthy`,
  // and logs the stop with the grace. Returns the signal.
  int waitForStop(const std::function<void()>& on_reload);

  ServiceNotifier& notifier() { return notifier_; }

  // How long the stop lets the work in flight finish: shutdown_timeout_ms, for every command.
  std::chrono::milliseconds grace() const;

  // The grace is a promise to whoever stops us (systemd, Kubernetes): leave now, with exit
  // status 0, without destroying the parts still busy. `warning` says what was left running.
  [[noreturn]] static void exitNow(std::string_view warning);

 private:
  ServiceKind kind_;
  const ServiceConfig& config_;
  sigset_t signals_;
  ServiceNotifier notifier_;
};

// The keys of app.env that `conduit serve`, `work` and `run` read themselves.
std::set<std::string, std::less<>> coreKeys();

// Keys of `keys` within two edits of one of `known` (a likely typo), each with its look-alike.
std::vector<std::pair<std::string, std::string>> nearMisses(
    const std::vector<std::string>& keys, const std::set<std::string, std::less<>>& known);

}  // namespace conduit::app
