#include "app/work_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/cli.hpp"
#include "app/default_paths.hpp"
#include "app/logging.hpp"
#include "app/server_app.hpp"
#include "app/service_notifier.hpp"
#include "app/stop_signals.hpp"
#include "app/version.hpp"
#include "app/worker_app.hpp"
#include "app/workflow_config.hpp"
#include "config/config_error.hpp"
#include "http/http_server.hpp"
#include "http/service_routes.hpp"
#include "plugin/plugin_library.hpp"

namespace conduit::app {
namespace {

// Everything a worker process is built from, read and checked before anything starts.
struct WorkerInputs {
  std::string config_path;
  std::string hcl_dir;
  std::string workers_file;
  std::optional<config::AppConfig> config;
  config::ServerSettings server;
  config::WorkerSettings worker;
  WorkflowConfig workflow;
};

// The state machines and workers.yaml, checked against each other; no workers is an error.
WorkflowLoad loadWorkers(const std::string& hcl_dir, const std::string& workers_file) {
  auto load = loadWorkflowConfig(hcl_dir, workers_file);
  if (load.errors.empty() && (!load.config.workers || load.config.workers->workers.empty())) {
    load.errors.push_back(
        fmt::format("{}: no workers: a worker process would have nothing to do", workers_file));
  }
  return load;
}

// Reads the config, the state machines and workers.yaml; prints every problem and returns
// nullopt when any is wrong.
std::optional<WorkerInputs> readInputs(const WorkOptions& options) {
  WorkerInputs inputs;
  inputs.config_path = options.config_path.value_or(defaultConfigPath());
  try {
    inputs.config = config::AppConfig::fromFile(inputs.config_path, config::processEnvironment());
    inputs.server = config::ServerSettings::load(*inputs.config);
    inputs.worker =
        config::WorkerSettings::load(*inputs.config, config::defaultPluginDir(runningBinaryPath()));
  } catch (const config::ConfigError& e) {
    fmt::print(stderr, "conduit: {}\n", e.what());
    return std::nullopt;
  }
  inputs.hcl_dir = options.hcl_dir.value_or(defaultHclDir());
  inputs.workers_file = options.workers_file.value_or(defaultWorkersFile());
  auto load = loadWorkers(inputs.hcl_dir, inputs.workers_file);
  if (!load.errors.empty()) {
    for (const auto& error : load.errors)
      fmt::print(stderr, "conduit: {}\n", error);
    return std::nullopt;
  }
  inputs.workflow = std::move(load.config);
  return inputs;
}

// SIGHUP (`systemctl reload`): the state machines and workers.yaml read again and, when they
// validate, put in force; otherwise the ones in force are kept. The log says which.
void reloadWorkflow(WorkerApp& workers, const WorkerInputs& inputs, ServiceNotifier& systemd) {
  spdlog::info("SIGHUP: reading {} and {} again", inputs.hcl_dir, inputs.workers_file);
  systemd.reloading();
  auto load = loadWorkers(inputs.hcl_dir, inputs.workers_file);
  try {
    if (load.errors.empty()) {
      const std::string what = workers.reload(std::move(load.config));
      spdlog::info("reloaded: {}", what);
      systemd.ready(what);
      return;
    }
  } catch (const std::exception& e) {  // a plugin refused its entry, or a key cannot be read
    load.errors.push_back(e.what());
  }
  for (const auto& error : load.errors)
    spdlog::error("reload: {}", error);
  spdlog::warn("reload refused: the state machines and workers.yaml in force are kept");
  systemd.ready("reload refused: the state machines and workers.yaml in force are kept");
}

// Waits for SIGTERM or SIGINT, reloading on each SIGHUP meanwhile; returns the stop signal.
int serveUntilStopped(const sigset_t& signals, WorkerApp& workers, const WorkerInputs& inputs,
                      ServiceNotifier& systemd) {
  int signal_number = 0;
  while ((signal_number = waitForSignal(signals)) == SIGHUP)
    reloadWorkflow(workers, inputs, systemd);
  systemd.stopping("finishing the deliveries in flight");
  return signal_number;
}

// Loads the plugins; prints why and returns nullptr when one is refused.
std::unique_ptr<WorkerApp> startWorkers(WorkerInputs& inputs) {
  try {
    auto app = std::make_unique<WorkerApp>(*inputs.config, inputs.server, inputs.worker,
                                           std::move(inputs.workflow));
    auto known = config::ServerSettings::knownKeys();
    known.insert(config::WorkerSettings::knownKeys().begin(),
                 config::WorkerSettings::knownKeys().end());
    known.insert(app->pluginKeys().begin(), app->pluginKeys().end());
    for (const auto& warning : inputs.config->unknownKeys(known))
      spdlog::warn("{}", warning);
    return app;
  } catch (const plugin::PluginLoadError& e) {
    spdlog::error("{}", e.what());
  } catch (const config::ConfigError& e) {
    spdlog::error("{}", e.what());
  }
  return nullptr;
}

void logCounts(const WorkerApp& workers) {
  const auto counts = workers.counts();
  spdlog::info("worker stopped: {} deliveries acknowledged, {} retries, {} dead letters",
               counts.acknowledged, counts.retries, counts.dead_letters);
}

// The grace is a promise to whoever stops us (systemd, Kubernetes): leave now. The deliveries
// still being processed stay pending in Redis and are processed again (at least once).
[[noreturn]] void exitNow(int unfinished_deliveries, int unfinished_requests) {
  spdlog::warn(
      "stopped with {} deliveries and {} requests still running; the deliveries stay "
      "pending and will be processed again",
      unfinished_deliveries, unfinished_requests);
  std::fflush(stderr);
  std::_Exit(kExitOk);
}

}  // namespace

int work(const WorkOptions& options) {
  auto inputs = readInputs(options);
  if (!inputs) return kExitUsageOrConfig;
  const sigset_t stop_signals = blockStopSignals();
  setUpLogging(inputs->server.log_level);
  spdlog::info("conduit {} worker starting with {}", version(), inputs->config_path);
  auto workers = startWorkers(*inputs);
  if (!workers) return kExitUsageOrConfig;

  auto router = std::make_shared<http::Router>();
  http::addWorkerPing(*router);
  http::addServiceRoutes(*router, version());
  http::addReadiness(*router, [&workers] { workers->checkRedis(); });
  // Two threads: a readiness probe waiting on a slow Redis does not hold up the liveness probe.
  http::HttpServer ping(
      {inputs->server.bind, options.port.value_or(inputs->worker.worker_port), 2, 1024}, router);
  try {
    ping.start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
  spdlog::info("answering /conduit-reactor/ping on http://{}:{}", inputs->server.bind, ping.port());
  const std::string consumer = consumerName(ping.port());
  try {
    workers->start(consumer);
  } catch (const ConsumerNameTaken& e) {
    spdlog::error("{}", e.what());
    return kExitUsageOrConfig;
  }
  ServiceNotifier systemd([&workers] { return workers->healthy(); });
  systemd.ready(fmt::format("processing deliveries as {}", consumer));

  const int signal_number = serveUntilStopped(stop_signals, *workers, *inputs, systemd);
  const auto grace = std::chrono::milliseconds(inputs->worker.shutdown_timeout_ms);
  spdlog::info("{} received: finishing the deliveries being processed (at most {} ms)",
               strsignal(signal_number), grace.count());
  if (int unfinished = workers->stop(grace); unfinished > 0) exitNow(unfinished, 0);
  logCounts(*workers);
  ping.drainAndStop(std::chrono::seconds(1));
  workers.reset();  // plugin instances destroyed, then the libraries unloaded
  spdlog::info("stopped");
  return kExitOk;
}

int runAll(const WorkOptions& options) {
  auto inputs = readInputs(options);
  if (!inputs) return kExitUsageOrConfig;
  const sigset_t stop_signals = blockStopSignals();
  setUpLogging(inputs->server.log_level);
  spdlog::info("conduit {} starting (server and worker) with {}", version(), inputs->config_path);
  if (!inputs->server.secret_key) {
    spdlog::warn("secret_key is not set: hook secrets are stored in Redis in plain text");
  }
  auto workers = startWorkers(*inputs);
  if (!workers) return kExitUsageOrConfig;

  ServerApp server(inputs->server, /*with_worker_ping=*/true);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
  spdlog::info("listening on http://{}:{}", inputs->server.bind, server.port());
  try {
    workers->start(consumerName(server.port()));
  } catch (const ConsumerNameTaken& e) {
    spdlog::error("{}", e.what());
    return kExitUsageOrConfig;
  }
  ServiceNotifier systemd([&workers] { return workers->healthy(); });
  systemd.ready(
      fmt::format("listening on {}:{}, processing deliveries", inputs->server.bind, server.port()));

  const int signal_number = serveUntilStopped(stop_signals, *workers, *inputs, systemd);
  const auto grace = std::chrono::milliseconds(inputs->worker.shutdown_timeout_ms);
  spdlog::info("{} received: finishing requests and deliveries in flight (at most {} ms)",
               strsignal(signal_number), grace.count());
  // Both halves drain at once, so that the whole stop stays within the one bound.
  auto requests = std::async(std::launch::async, [&] { return server.stop(grace); });
  const int deliveries = workers->stop(grace);
  const int unfinished_requests = requests.get();
  if (deliveries > 0 || unfinished_requests > 0) exitNow(deliveries, unfinished_requests);
  logCounts(*workers);
  workers.reset();
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace conduit::app
