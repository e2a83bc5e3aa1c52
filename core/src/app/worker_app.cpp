#include "app/worker_app.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/checkpoint_store.hpp"
#include "plugin/claim_store.hpp"
#include "plugin/lease_store.hpp"
#include "plugin/plugin_instance.hpp"
#include "queue/delivery_queue.hpp"
#include "store/redis_pool.hpp"

namespace conduit::app {
namespace {

// conduit_deliveries_processed_total and conduit_delivery_latency_seconds from one attempt: a
// retry answer on the last attempt is a failure (dead-lettered).
void observeAttempt(metrics::ConduitMetrics& metrics, const worker::AttemptReport& report) {
  const int64_t now_ms = queue::unixTimeMs();
  for (const auto& answer : report.answers) {
    auto outcome = metrics::Processed::kFailed;
    if (answer.kind == worker::WorkerAnswer::Kind::kOk) {
      outcome = metrics::Processed::kOk;
      const int64_t received_ms = report.delivery.received_at_ms;
      if (received_ms > 0 && now_ms >= received_ms) {
        metrics.deliveryLatency(answer.worker, static_cast<double>(now_ms - received_ms) / 1000.0);
      }
    } else if (answer.kind == worker::WorkerAnswer::Kind::kRetry) {
      const auto& letters = report.decision.dead_letters;
      const bool dead = report.decision.finish &&
                        std::any_of(letters.begin(), letters.end(), [&](const auto& letter) {
                          return letter.worker == answer.worker;
                        });
      outcome = dead ? metrics::Processed::kFailed : metrics::Processed::kRetry;
    }
    metrics.processed(answer.worker, outcome);
  }
}

// The plugins' own counters (the host's `count`), for conduit_plugin_events_total: the instances
// in force, plus what instances replaced by a reload had counted, so that a reload does not
// take a counter back.
struct PluginCounters {
  std::mutex mutex;
  std::shared_ptr<const worker::DeliveryWorker::Processors> processors;
  std::map<std::pair<std::string, std::string>, int64_t> retired;

  std::map<std::pair<std::string, std::string>, int64_t> totals() {
    std::shared_ptr<const worker::DeliveryWorker::Processors> current;
    std::map<std::pair<std::string, std::string>, int64_t> sums;
    {
      std::lock_guard lock(mutex);
      current = processors;
      sums = retired;
    }
    if (current) {
      for (const auto& instance : *current) {
        for (const auto& [name, value] : instance->host().counters())
          sums[{instance->worker(), name}] += value;
      }
    }
    return sums;
  }

  void replace(std::shared_ptr<const worker::DeliveryWorker::Processors> next) {
    auto sums = totals();
    std::lock_guard lock(mutex);
    retired = std::move(sums);
    processors = std::move(next);
  }
};

metrics::Collector pluginCollector(std::weak_ptr<PluginCounters> source) {
  return [source = std::move(source)] {
    metrics::FamilySnapshot family{"conduit_plugin_events_total",
                                   "What the plugins counted (the host API's count), by worker "
                                   "and name.",
                                   metrics::MetricType::kCounter,
                                   {}};
    if (auto counters = source.lock()) {
      for (const auto& [key, value] : counters->totals()) {
        family.samples.push_back(
            {"", {{"worker", key.first}, {"name", key.second}}, static_cast<double>(value)});
      }
    }
    return std::vector<metrics::FamilySnapshot>{std::move(family)};
  };
}

}  // namespace

// Declared in the order they are built; destroyed in reverse: the worker stops first, the
// instances go before the libraries they came from.
struct WorkerApp::Parts {
  Parts(const config::AppConfig& app_config, const config::ServerSettings& server,
        const config::WorkerSettings& worker_settings, WorkflowConfig workflow)
      : config(app_config),
        redis(server.redis, std::chrono::milliseconds(server.redis_timeout_ms)),
        checkpoints(redis, std::chrono::hours(worker_settings.checkpoint_ttl_hours)),
        leases(redis),
        // A claim outlives the deliveries that resend what it stands for as long as their
        // checkpoints do.
        claims(redis, std::chrono::hours(worker_settings.checkpoint_ttl_hours)),
        settings(worker_settings),
        redis_timeout(server.redis_timeout_ms),
        delivery_log{std::chrono::hours(server.delivery_log_hours), server.delivery_log_max},
        machines(std::make_shared<const statemachine::StateMachines>(std::move(workflow.machines))),
        workers(workflow.workers ? std::move(workflow.workers->workers)
                                 : std::vector<config::WorkerEntry>{}) {}

  ~Parts() {
    worker.reset();
    processors.reset();  // each instance's shutdown() and destroy() ...
    libraries.clear();   // ... before its library is unloaded
  }

  std::shared_ptr<const statemachine::StateMachines> currentMachines() {
    std::lock_guard lock(machines_mutex);
    return machines;
  }

  // The library of `plugin`, loaded on first use and shared by the workers that use it.
  std::shared_ptr<plugin::SharedPlugin> library(const std::string& plugin) {
    if (auto it = libraries.find(plugin); it != libraries.end()) return it->second;
    auto loaded = std::make_shared<plugin::SharedPlugin>(
        plugin::PluginLibrary::load(settings.plugin_dir, plugin));
    const auto& descriptor = loaded->descriptor();
    spdlog::info("plugin {} {} (ABI {}.{}) loaded from {}", descriptor.name, descriptor.version,
                 descriptor.abi_major, descriptor.abi_minor, loaded->path());
    libraries.emplace(plugin, loaded);
    return loaded;
  }

  // One configured instance per entry. Throws PluginLoadError or ConfigError; the instances
  // made before the failure are destroyed. Each instance is told to shut down, then destroyed,
  // when the last holder lets go of it: the worker, or the attempt still running in it.
  std::shared_ptr<const worker::DeliveryWorker::Processors> makeInstances(
      const std::vector<config::WorkerEntry>& entries) {
    worker::DeliveryWorker::Processors made;
    for (const auto& entry : entries) {
      auto shared = library(entry.plugin);
      plugin::PluginHost::Context context;
      context.worker = entry.name;
      context.plugin = entry.plugin;
      context.machines = [this] { return currentMachines(); };
      context.checkpoints = &checkpoints;
      context.leases = &leases;
      context.claims = &claims;
      if (const char* const* keys = shared->descriptor().config_keys) {
        for (; *keys != nullptr; ++keys) {
          plugin_keys.insert(*keys);
          if (auto value = config.get(*keys)) context.config.emplace(*keys, std::move(*value));
        }
      }
      made.emplace_back(new plugin::PluginInstance(shared, entry, std::move(context)),
                        [](plugin::PluginInstance* instance) {
                          instance->shutdown();
                          delete instance;  // destroy()
                        });
    }
    return std::make_shared<const worker::DeliveryWorker::Processors>(std::move(made));
  }

  void startWorker() {
    worker::WorkerOptions options;
    options.consumer_name = consumer_name;
    options.concurrency = settings.worker_concurrency;
    if (settings.exponentialRetries()) {
      options.retry = worker::RetryPolicy::exponential(
          std::chrono::milliseconds(settings.retry_initial_ms),
          std::chrono::milliseconds(settings.retry_max_ms), settings.retry_max_attempts);
    } else {
      std::vector<std::chrono::milliseconds> delays;
      for (int64_t delay : settings.retry_schedule_ms)
        delays.emplace_back(delay);
      options.retry = worker::RetryPolicy::fromSchedule(std::move(delays));
    }
    options.claim_idle = std::chrono::milliseconds(settings.claim_idle_ms);
    options.redis_timeout = redis_timeout;
    options.checkpoint_lifetime = std::chrono::hours(settings.checkpoint_ttl_hours);
    if (metrics) {
      options.on_attempt = [m = metrics](const worker::AttemptReport& report) {
        observeAttempt(*m, report);
      };
    }
    options.delivery_log = delivery_log;
    auto made = std::make_unique<worker::DeliveryWorker>(redis, options, processors);
    made->start();  // throws ConsumerNameTaken, having started nothing
    worker = std::move(made);
  }

  config::AppConfig config;
  store::RedisPool redis;
  plugin::CheckpointStore checkpoints;
  plugin::LeaseStore leases;
  plugin::ClaimStore claims;
  config::WorkerSettings settings;
  std::chrono::milliseconds redis_timeout;
  queue::LogSettings delivery_log;
  std::mutex machines_mutex;
  std::shared_ptr<const statemachine::StateMachines> machines;
  std::vector<config::WorkerEntry> workers;
  std::set<std::string, std::less<>> plugin_keys;
  std::map<std::string, std::shared_ptr<plugin::SharedPlugin>> libraries;
  std::shared_ptr<const worker::DeliveryWorker::Processors> processors;
  std::string consumer_name;
  std::shared_ptr<metrics::ConduitMetrics> metrics;
  std::shared_ptr<PluginCounters> plugin_counters = std::make_shared<PluginCounters>();
  std::unique_ptr<worker::DeliveryWorker> worker;
};

WorkerApp::WorkerApp(const config::AppConfig& config, const config::ServerSettings& server,
                     const config::WorkerSettings& settings, WorkflowConfig workflow,
                     std::shared_ptr<metrics::ConduitMetrics> metrics)
    : parts_(std::make_unique<Parts>(config, server, settings, std::move(workflow))) {
  for (const auto& notice : settings.notices)
    spdlog::warn("{}", notice);
  parts_->processors = parts_->makeInstances(parts_->workers);
  parts_->plugin_counters->replace(parts_->processors);
  if (metrics) {
    metrics->registry().addCollector(pluginCollector(parts_->plugin_counters));
    parts_->metrics = std::move(metrics);
  }
}

WorkerApp::~WorkerApp() = default;

const std::set<std::string, std::less<>>& WorkerApp::pluginKeys() const {
  return parts_->plugin_keys;
}

void WorkerApp::start(const std::string& default_consumer_name) {
  auto& p = *parts_;
  p.consumer_name =
      p.settings.consumer_name.empty() ? default_consumer_name : p.settings.consumer_name;
  p.startWorker();
  spdlog::info(
      "worker process {}: {} worker(s), {} deliveries at a time, reading {} from Redis "
      "at {}",
      p.consumer_name, p.processors->size(), p.settings.worker_concurrency,
      queue::QueueNames::kStream, p.redis.endpoint().describe());
}

std::string WorkerApp::reload(WorkflowConfig workflow) {
  auto& p = *parts_;
  auto machines = std::make_shared<const statemachine::StateMachines>(std::move(workflow.machines));
  auto workers =
      workflow.workers ? std::move(workflow.workers->workers) : std::vector<config::WorkerEntry>{};
  const bool same_workers =
      workers.size() == p.workers.size() &&
      std::equal(workers.begin(), workers.end(), p.workers.begin(),
                 [](const config::WorkerEntry& a, const config::WorkerEntry& b) {
                   return a.name == b.name && a.plugin == b.plugin &&
                          a.settings_json == b.settings_json;
                 });
  if (same_workers) {
    std::lock_guard lock(p.machines_mutex);
    p.machines = std::move(machines);
    return "state machines reloaded; workers.yaml unchanged";
  }
  // The new instances first: should one refuse, nothing has changed. Then they are put in
  // force for the next attempts; the attempts running go on with the old ones, which are shut
  // down and destroyed when the last of those ends.
  auto processors = p.makeInstances(workers);
  {
    std::lock_guard lock(p.machines_mutex);
    p.machines = std::move(machines);
  }
  if (p.worker) p.worker->replaceProcessors(processors);
  p.plugin_counters->replace(processors);
  p.processors = std::move(processors);
  p.workers = std::move(workers);
  std::string names;
  for (const auto& worker : p.workers)
    names += (names.empty() ? "" : ", ") + worker.name;
  return fmt::format("state machines and workers.yaml reloaded; workers now: {}", names);
}

int WorkerApp::stop(std::chrono::milliseconds grace) {
  if (!parts_->worker) return 0;
  return parts_->worker->stop(grace);
}

worker::WorkerCounts WorkerApp::counts() const {
  return parts_->worker ? parts_->worker->counts() : worker::WorkerCounts{};
}

bool WorkerApp::healthy() const {
  // Far above the reader's longest turn (a Redis call bounded by redis_timeout_ms).
  constexpr std::chrono::seconds kStalled{60};
  return parts_->worker && parts_->worker->readerAlive(kStalled);
}

void WorkerApp::checkRedis() {
  parts_->redis.ping();
}

std::string consumerName(uint16_t port) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return fmt::format("{}:{}", host, port);
}

}  // namespace conduit::app
