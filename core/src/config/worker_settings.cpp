#include "config/worker_settings.hpp"

#include <fmt/format.h>

#include "config/settings_reader.hpp"

namespace conduit::config {

const std::set<std::string, std::less<>>& WorkerSettings::knownKeys() {
  static const std::set<std::string, std::less<>> keys = {
      "worker_port",        "worker_concurrency",  "retry_initial_ms", "retry_max_ms",
      "retry_max_attempts", "shutdown_timeout_ms", "claim_idle_ms",    "plugin_dir"};
  return keys;
}

WorkerSettings WorkerSettings::load(const AppConfig& config, std::string default_plugin_dir) {
  WorkerSettings s;
  s.plugin_dir = std::move(default_plugin_dir);
  SettingsReader reader(config);
  constexpr int64_t kDay = 86400000;
  reader.integer<uint16_t>("worker_port", 0, 65535, s.worker_port, "a port number");
  reader.integer("worker_concurrency", 1, 1024, s.worker_concurrency);
  reader.integer<int64_t>("retry_initial_ms", 1, kDay, s.retry_initial_ms);
  reader.integer<int64_t>("retry_max_ms", 1, 7 * kDay, s.retry_max_ms);
  reader.integer("retry_max_attempts", 1, 1000, s.retry_max_attempts);
  reader.integer<int64_t>("shutdown_timeout_ms", 0, 3600000, s.shutdown_timeout_ms);
  reader.integer<int64_t>("claim_idle_ms", 1000, kDay, s.claim_idle_ms);
  if (s.retry_max_ms < s.retry_initial_ms) {
    reader.add("retry_max_ms",
               fmt::format("must be at least retry_initial_ms ({})", s.retry_initial_ms));
  }
  if (auto dir = reader.get("plugin_dir")) {
    if (dir->empty() || dir->front() != '/') {
      reader.add("plugin_dir", fmt::format("must be an absolute path, not `{}`", *dir));
    } else {
      s.plugin_dir = *dir;
    }
  }
  reader.throwIfAny();
  return s;
}

std::string defaultPluginDir(const std::string& binary_path) {
  const size_t slash = binary_path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : binary_path.substr(0, slash);
  const size_t parent = folder.rfind('/');
  const std::string prefix = parent == std::string::npos ? "." : folder.substr(0, parent);
  return prefix + "/lib/conduit/plugins";
}

}  // namespace conduit::config
