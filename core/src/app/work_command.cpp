#include "app/work_command.hpp"

#include <cstdio>
#include <future>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/cli.hpp"
#include "app/default_paths.hpp"
#include "app/server_app.hpp"
#include "app/service_lifecycle.hpp"
#include "app/service_metrics.hpp"
#include "app/service_notifier.hpp"
#include "app/version.hpp"
#include "app/worker_app.hpp"
#include "app/workflow_config.hpp"
#include "config/config_error.hpp"
#include "http/admin_guard.hpp"
#include "http/http_server.hpp"
#include "http/metrics_route.hpp"
#include "http/service_routes.hpp"
#include "plugin/plugin_library.hpp"

namespace conduit::app {
namespace {

// Everything a worker process is built from, read and checked before anything starts.
struct WorkerInputs {
  ServiceConfig config;
  std::string hcl_dir;
  std::string workers_file;
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
  auto config = readServiceConfig(options.config_path);
  if (!config) return std::nullopt;
  WorkerInputs inputs{std::move(*config),
                      options.hcl_dir.value_or(defaultHclDir()),
                      options.workers_file.value_or(defaultWorkersFile()),
                      {}};
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

// Loads the plugins; logs why and returns nullptr when one is refused.
std::unique_ptr<WorkerApp> loadPlugins(WorkerInputs& inputs,
                                       std::shared_ptr<metrics::ConduitMetrics> metrics) {
  try {
    return std::make_unique<WorkerApp>(*inputs.config.file, inputs.config.server,
                                       inputs.config.worker, std::move(inputs.workflow),
                                       std::move(metrics));
  } catch (const plugin::PluginLoadError& e) {
    spdlog::error("{}", e.what());
  } catch (const config::ConfigError& e) {
    spdlog::error("{}", e.what());
  }
  return nullptr;
}

// Starts reading the queue as `consumer`. Returns the exit status when the worker refuses to
// start, nullopt when it started.
std::optional<int> startConsuming(WorkerApp& workers, const std::string& consumer) {
  try {
    workers.start(consumer);
    return std::nullopt;
  } catch (const ConsumerNameTaken& e) {
    // Another live process holds the name: the user sets consumer_name, as the message says.
    spdlog::error("{}", e.what());
    return kExitUsageOrConfig;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
}

void logCounts(const WorkerApp& workers) {
  const auto counts = workers.counts();
  spdlog::info("worker stopped: {} deliveries acknowledged, {} retries, {} dead letters",
               counts.acknowledged, counts.retries, counts.dead_letters);
}

// The deliveries still being processed stay pending in Redis and are processed again (at least
// once).
[[noreturn]] void exitNow(int unfinished_deliveries, int unfinished_requests) {
  ServiceLifecycle::exitNow(
      fmt::format("stopped with {} deliveries and {} requests still running; the deliveries stay "
                  "pending and will be processed again",
                  unfinished_deliveries, unfinished_requests));
}

}  // namespace

// The parts are declared in the order they start, so that they are destroyed in reverse: the
// HTTP server before the workers it asks about, the workers before the ServiceLifecycle whose
// watchdog thread asked about them until waitForStop() returned.
int work(const WorkOptions& options) {
  auto inputs = readInputs(options);
  if (!inputs) return kExitUsageOrConfig;
  ServiceLifecycle service(ServiceKind::kWorker, inputs->config);
  auto metrics = makeServiceMetrics(inputs->config.server);
  auto workers = loadPlugins(*inputs, metrics);
  if (!workers) return kExitUsageOrConfig;
  service.checkKeys(&workers->pluginKeys());
  service.noteInsecureSettings();
  service.checkRedisDurability();

  auto router = std::make_shared<http::Router>();
  http::addWorkerPing(*router);
  http::addServiceRoutes(*router, version());
  http::addReadiness(*router, [&workers] { workers->checkRedis(); });
  http::addMetricsRoute(*router, http::AdminGuard(inputs->config.server.admin_token),
                        inputs->config.server.metrics_token,
                        [metrics] { return metrics->render(); });
  // Two threads: a readiness probe waiting on a slow Redis does not hold up the liveness probe.
  const auto& server = inputs->config.server;
  http::HttpServerOptions ping_options;
  ping_options.bind = server.bind;
  ping_options.port = options.port.value_or(inputs->config.worker.worker_port);
  ping_options.threads = 2;
  ping_options.max_body_bytes = 1024;
  ping_options.on_answer = [metrics](const http::AnsweredRequest& answer) {
    metrics->answered(answer.route, answer.status, answer.duration_seconds);
  };
  http::HttpServer ping(ping_options, router);
  try {
    ping.start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
  spdlog::info("answering /conduit-reactor/ping on http://{}:{}", server.bind, ping.port());
  const std::string consumer = consumerName(ping.port());
  if (auto refused = startConsuming(*workers, consumer)) return *refused;
  service.ready(fmt::format("processing deliveries as {}", consumer),
                [&workers] { return workers->healthy(); });

  service.waitForStop([&] { reloadWorkflow(*workers, *inputs, service.notifier()); });
  if (int unfinished = workers->stop(service.grace()); unfinished > 0) exitNow(unfinished, 0);
  logCounts(*workers);
  ping.drainAndStop(std::chrono::seconds(1));
  workers.reset();  // plugin instances destroyed, then the libraries unloaded
  spdlog::info("stopped");
  return kExitOk;
}

int runAll(const WorkOptions& options) {
  auto inputs = readInputs(options);
  if (!inputs) return kExitUsageOrConfig;
  ServiceLifecycle service(ServiceKind::kServerAndWorker, inputs->config);
  // One set of metrics for both halves, shown by the API port's /metrics.
  auto metrics = makeServiceMetrics(inputs->config.server);
  auto workers = loadPlugins(*inputs, metrics);
  if (!workers) return kExitUsageOrConfig;
  service.checkKeys(&workers->pluginKeys());
  service.noteInsecureSettings();
  service.checkRedisDurability();

  const auto& settings = inputs->config.server;
  ServerApp server(settings, /*with_worker_ping=*/true, metrics);
  try {
    server.start();
  } catch (const std::exception& e) {
    return startFailure(e);
  }
  spdlog::info("listening on http://{}:{}", settings.bind, server.port());
  if (auto refused = startConsuming(*workers, consumerName(server.port()))) return *refused;
  service.ready(
      fmt::format("listening on {}:{}, processing deliveries", settings.bind, server.port()),
      [&workers] { return workers->healthy(); });

  service.waitForStop([&] { reloadWorkflow(*workers, *inputs, service.notifier()); });
  // Both halves drain at once, so that the whole stop stays within the one bound.
  auto requests = std::async(std::launch::async, [&] { return server.stop(service.grace()); });
  const int deliveries = workers->stop(service.grace());
  const int unfinished_requests = requests.get();
  if (deliveries > 0 || unfinished_requests > 0) exitNow(deliveries, unfinished_requests);
  logCounts(*workers);
  workers.reset();
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace conduit::app
