#pragma once

#include <optional>
#include <string>

namespace conduit::app {

struct PluginsOptions {
  std::optional<std::string> plugin_dir;   // --plugin-dir; else the config's plugin_dir
  std::optional<std::string> config_path;  // --config; else defaultConfigPath()
};

// `conduit plugins`: for each `.so` of the plugin folder, its name, version and ABI version, or
// why it cannot load. Returns 0 when the folder could be read, whatever the plugins' state.
int listPlugins(const PluginsOptions& options);

}  // namespace conduit::app
