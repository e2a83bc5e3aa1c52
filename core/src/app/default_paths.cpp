#include "app/default_paths.hpp"

#include <filesystem>

#include <boost/dll/runtime_symbol_info.hpp>

namespace conduit::app {

std::string installedConfigDir() {
  return CONDUIT_SYSCONFDIR;
}

std::string defaultConfigFile(std::string_view name) {
  const std::filesystem::path local = std::filesystem::path("config") / name;
  if (std::filesystem::exists(local)) return local.string();
  return installedConfigDir() + "/" + std::string(name);
}

std::string defaultConfigPath() {
  return defaultConfigFile("app.env");
}

std::string defaultHclDir() {
  return defaultConfigFile("statemachines");
}

std::string defaultWorkersFile() {
  return defaultConfigFile("workers.yaml");
}

std::string runningBinaryPath() {
  return boost::dll::program_location().string();
}

}  // namespace conduit::app
