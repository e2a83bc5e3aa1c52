#pragma once

#include <string>
#include <string_view>

namespace conduit::app {

// Where a configuration file is when no option names it: `./config/<name>` when that exists
// (a source checkout, `make run`), else `<name>` in the installed configuration folder
// (/etc/conduit for the package).
std::string defaultConfigFile(std::string_view name);

// The installed configuration folder: /etc/conduit for the package.
std::string installedConfigDir();

// app.env, statemachines/ and workers.yaml, found as above.
std::string defaultConfigPath();
std::string defaultHclDir();
std::string defaultWorkersFile();

// The running `conduit` binary's own path (/proc/self/exe), for the default plugin_dir.
std::string runningBinaryPath();

}  // namespace conduit::app
