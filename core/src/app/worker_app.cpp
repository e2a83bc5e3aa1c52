#include "app/worker_app.hpp"

#include <unistd.h>

#include <map>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/checkpoint_store.hpp"
#include "plugin/plugin_instance.hpp"
#include "queue/delivery_queue.hpp"
#include "store/redis_pool.hpp"

namespace conduit::app {

// Declared in the order they are built; destroyed in reverse: the worker stops first, the
// instances go before the libraries they came from.
struct WorkerApp::Parts {
  Parts(const config::ServerSettings& server, const config::WorkerSettings& worker_settings,
        WorkflowConfig workflow)
      : redis(server.redis, std::chrono::milliseconds(server.redis_timeout_ms)),
        checkpoints(redis),
        settings(worker_settings),
        redis_timeout(server.redis_timeout_ms),
        machines(std::make_shared<const statemachine::StateMachines>(std::move(workflow.machines))),
        workers(workflow.workers ? std::move(workflow.workers->workers)
                                 : std::vector<config::WorkerEntry>{}) {}

  ~Parts() {
    worker.reset();
    for (auto& instance : instances)
      instance->shutdown();
    instances.clear();  // each destroy() runs before its library is unloaded below
    libraries.clear();
  }

  std::shared_ptr<const statemachine::StateMachines> currentMachines() {
    std::lock_guard lock(machines_mutex);
    return machines;
  }

  store::RedisPool redis;
  plugin::CheckpointStore checkpoints;
  config::WorkerSettings settings;
  std::chrono::milliseconds redis_timeout;
  std::mutex machines_mutex;
  std::shared_ptr<const statemachine::StateMachines> machines;
  std::vector<config::WorkerEntry> workers;
  std::set<std::string, std::less<>> plugin_keys;
  std::map<std::string, std::shared_ptr<plugin::SharedPlugin>> libraries;
  std::vector<std::unique_ptr<plugin::PluginInstance>> instances;
  std::unique_ptr<worker::DeliveryWorker> worker;
};

WorkerApp::WorkerApp(const config::AppConfig& config, const config::ServerSettings& server,
                     const config::WorkerSettings& settings, WorkflowConfig workflow)
    : parts_(std::make_unique<Parts>(server, settings, std::move(workflow))) {
  auto& p = *parts_;
  for (const auto& entry : p.workers) {
    auto& library = p.libraries[entry.plugin];
    if (!library) {
      library = std::make_shared<plugin::SharedPlugin>(
          plugin::PluginLibrary::load(settings.plugin_dir, entry.plugin));
      const auto& descriptor = library->descriptor();
      spdlog::info("plugin {} {} (ABI {}.{}) loaded from {}", descriptor.name, descriptor.version,
                   descriptor.abi_major, descriptor.abi_minor, library->path());
    }
    plugin::PluginHost::Context context;
    context.worker = entry.name;
    context.plugin = entry.plugin;
    context.machines = [&p] { return p.currentMachines(); };
    context.checkpoints = &p.checkpoints;
    if (const char* const* keys = library->descriptor().config_keys) {
      for (; *keys != nullptr; ++keys) {
        p.plugin_keys.insert(*keys);
        if (auto value = config.get(*keys)) context.config.emplace(*keys, std::move(*value));
      }
    }
    p.instances.push_back(
        std::make_unique<plugin::PluginInstance>(library, entry, std::move(context)));
  }
}

WorkerApp::~WorkerApp() = default;

const std::set<std::string, std::less<>>& WorkerApp::pluginKeys() const {
  return parts_->plugin_keys;
}

void WorkerApp::start(const std::string& consumer_name) {
  auto& p = *parts_;
  worker::WorkerOptions options;
  options.consumer_name = consumer_name;
  options.concurrency = p.settings.worker_concurrency;
  options.retry.initial = std::chrono::milliseconds(p.settings.retry_initial_ms);
  options.retry.max = std::chrono::milliseconds(p.settings.retry_max_ms);
  options.retry.max_attempts = p.settings.retry_max_attempts;
  options.claim_idle = std::chrono::milliseconds(p.settings.claim_idle_ms);
  options.redis_timeout = p.redis_timeout;
  std::vector<plugin::PluginInstance*> processors;
  for (auto& instance : p.instances)
    processors.push_back(instance.get());
  p.worker = std::make_unique<worker::DeliveryWorker>(p.redis, options, std::move(processors));
  p.worker->start();
  spdlog::info(
      "worker process {}: {} worker(s), {} deliveries at a time, reading {} from Redis at {}",
      consumer_name, p.instances.size(), options.concurrency, queue::QueueNames::kStream,
      p.redis.endpoint().describe());
}

int WorkerApp::stop(std::chrono::milliseconds grace) {
  if (!parts_->worker) return 0;
  return parts_->worker->stop(grace);
}

worker::WorkerCounts WorkerApp::counts() const {
  return parts_->worker ? parts_->worker->counts() : worker::WorkerCounts{};
}

std::string consumerName(uint16_t port) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
  return fmt::format("{}:{}", host, port);
}

}  // namespace conduit::app
