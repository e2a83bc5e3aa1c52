#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/workers_file.hpp"
#include "plugin/plugin_host.hpp"
#include "plugin/plugin_library.hpp"
#include "providers/event.hpp"

namespace conduit::plugin {

// A loaded library and the lock that keeps the ABI's threading promise: lifecycle calls one at a
// time, and process() one at a time too unless the plugin is marked thread-safe. Shared by every
// worker that uses the plugin.
class SharedPlugin {
 public:
  explicit SharedPlugin(PluginLibrary library) : library_(std::move(library)) {}

  const conduit_plugin_descriptor& descriptor() const { return library_.descriptor(); }
  const std::string& path() const { return library_.path(); }
  bool threadSafe() const {
    return (descriptor().capabilities & CONDUIT_CAPABILITY_THREAD_SAFE) != 0;
  }
  std::mutex& calls() { return calls_; }

 private:
  PluginLibrary library_;
  std::mutex calls_;
};

// What a processor answered for one event.
struct ProcessOutcome {
  enum class Kind { kOk, kRetry, kFailed };
  Kind kind = Kind::kOk;
  std::chrono::milliseconds retry_after{0};  // kRetry: the delay the plugin asked for, or 0
  std::string message;                       // kRetry and kFailed: why
  // What the plugin reported it did during this call (ABI 1.2's `report`), in order: each a
  // JSON object with at least a string `action` (docs/queue.md, "The delivery log").
  std::vector<std::string> actions;
};

// The facts of a delivery that come from the queue rather than from its payload.
struct DeliveryFacts {
  std::string_view entry_id;  // the stream entry
  // provider, repo id and delivery id: the delivery's identity, which its checkpoints are kept
  // under, the same for each entry it becomes (a dead letter put back, say)
  std::string_view provider;
  std::string_view repo_id;
  std::string_view repo_path;
  std::string_view delivery_id;
  std::string_view payload;
  uint32_t attempt = 1;
};

// One worker of workers.yaml running its plugin: the instance made by create() and configure(),
// and the host side it calls back into. Destroying it calls the plugin's destroy().
class PluginInstance {
 public:
  // Creates and configures the instance. Throws PluginLoadError naming the worker, the plugin
  // and the plugin's own reason when either refuses.
  PluginInstance(std::shared_ptr<SharedPlugin> plugin, const config::WorkerEntry& worker,
                 PluginHost::Context context);
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  // Hands one event to the plugin and returns its answer.
  ProcessOutcome process(const providers::Event& event, const DeliveryFacts& facts);

  // Tells the plugin that no process() call will come any more (its optional shutdown()).
  void shutdown();

  const std::string& worker() const { return worker_; }
  const SharedPlugin& plugin() const { return *plugin_; }
  const PluginHost& host() const { return host_; }

 private:
  std::shared_ptr<SharedPlugin> plugin_;
  std::string worker_;
  PluginHost host_;
  conduit_instance* instance_ = nullptr;
};

}  // namespace conduit::plugin
