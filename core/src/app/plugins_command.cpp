#include "app/plugins_command.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "app/cli.hpp"
#include "app/default_paths.hpp"
#include "config/app_config.hpp"
#include "config/config_error.hpp"
#include "config/worker_settings.hpp"
#include "plugin/plugin_library.hpp"

namespace conduit::app {
namespace {

namespace fs = std::filesystem;

// The plugin folder the worker would use: the config's plugin_dir (CONDUIT_PLUGIN_DIR included),
// else the one beside the binary. A config file that does not exist is no error here.
std::string configuredPluginDir(const PluginsOptions& options) {
  const std::string config_path = options.config_path.value_or(defaultConfigPath());
  const std::string fallback = config::defaultPluginDir(runningBinaryPath());
  auto env = config::processEnvironment();
  auto config = options.config_path || fs::exists(config_path)
                    ? config::AppConfig::fromFile(config_path, env)
                    : config::AppConfig::fromText("", config_path, env);
  return config::WorkerSettings::load(config, fallback).plugin_dir;
}

}  // namespace

int listPlugins(const PluginsOptions& options) {
  std::string dir;
  try {
    dir = options.plugin_dir ? *options.plugin_dir : configuredPluginDir(options);
  } catch (const config::ConfigError& e) {
    fmt::print(stderr, "conduit: {}\n", e.what());
    return kExitUsageOrConfig;
  }

  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    if (it->path().extension() == ".so") names.push_back(it->path().stem().string());
  }
  if (error) {
    fmt::print(stderr, "conduit plugins: cannot read the plugin folder {}: {}\n", dir,
               error.message());
    return kExitFailure;
  }
  std::sort(names.begin(), names.end());
  fmt::print("plugins in {}:\n", dir);
  if (names.empty()) fmt::print("  (none)\n");
  for (const auto& name : names) {
    try {
      auto library = plugin::PluginLibrary::load(dir, name);
      const auto& d = library.descriptor();
      const bool thread_safe = (d.capabilities & CONDUIT_CAPABILITY_THREAD_SAFE) != 0;
      fmt::print("  {:<20} {:<10} ABI {}.{}{}\n", d.name, d.version, d.abi_major, d.abi_minor,
                 thread_safe ? "  thread-safe" : "");
    } catch (const plugin::PluginLoadError& e) {
      fmt::print("  {:<20} cannot load: {}\n", name, e.what());
    }
  }
  return kExitOk;
}

}  // namespace conduit::app
