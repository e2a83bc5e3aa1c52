#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "app/workflow_config.hpp"
#include "config/app_config.hpp"
#include "config/server_settings.hpp"
#include "config/worker_settings.hpp"
#include "metrics/conduit_metrics.hpp"
#include "worker/delivery_worker.hpp"

namespace conduit::app {

// Another live process is the consumer this one was to be: its what() names that one's host
// and the `consumer_name` key.
using ConsumerNameTaken = queue::ConsumerNameTaken;

// The composition root of a worker process (`conduit work`, the worker half of `conduit run`):
// each worker's plugin loaded from plugin_dir and its instance made, the checkpoint store, and
// the delivery worker that feeds them from the queue.
class WorkerApp {
 public:
  // Loads each plugin once (several workers may share one) and makes and configures one
  // instance per worker. Throws plugin::PluginLoadError (the path and the failed check) or
  // config::ConfigError (a key a plugin declares cannot be resolved): start-up stops, exit 2.
  // `metrics` (may be null) gets the workers' answers, their latency and the plugins' counters.
  WorkerApp(const config::AppConfig& config, const config::ServerSettings& server,
            const config::WorkerSettings& settings, WorkflowConfig workflow,
            std::shared_ptr<metrics::ConduitMetrics> metrics = nullptr);
  // Tells each plugin instance to shut down, destroys them, then unloads the libraries.
  ~WorkerApp();
  WorkerApp(const WorkerApp&) = delete;
  WorkerApp& operator=(const WorkerApp&) = delete;

  // The app-config keys the loaded plugins declare: known keys, not typos.
  const std::set<std::string, std::less<>>& pluginKeys() const;

  // Starts reading the queue as the consumer named by the `consumer_name` key, or else
  // `default_consumer_name` (see WorkerOptions). Throws ConsumerNameTaken (exit 2) when a live
  // process holds that name: nothing is started then.
  void start(const std::string& default_consumer_name);

  // Takes state machines and a workers.yaml that validated (SIGHUP): the state machines from the
  // next delivery on; when workers.yaml changed, new plugin instances too, made first and used
  // from the next attempt on (the old ones are shut down and destroyed once the attempts still
  // in them end). Throws plugin::PluginLoadError or config::ConfigError, having changed
  // nothing, when a new instance cannot be made. Returns what was reloaded, for the log.
  std::string reload(WorkflowConfig workflow);

  // See DeliveryWorker::stop(). When it returns more than 0, plugin calls are still running:
  // exit without destroying this object.
  int stop(std::chrono::milliseconds grace);

  worker::WorkerCounts counts() const;

  // For /conduit/ready: throws when Redis does not answer.
  void checkRedis();

  // For the systemd watchdog: the worker is started and its reader goes round its loop.
  bool healthy() const;

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

// This process's consumer name in the queue's group: `<hostname>:<port>`, unique on a machine
// (the port is bound) and the same after a restart, so that a restarted process takes back what
// it left pending at once instead of after claim_idle_ms.
std::string consumerName(uint16_t port);

}  // namespace conduit::app
