#include "app/command_context.hpp"

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "app/cli.hpp"
#include "app/default_paths.hpp"
#include "config/app_config.hpp"
#include "config/config_error.hpp"

namespace conduit::app {

std::optional<CommandSettings> readCommandSettings(const std::optional<std::string>& path) {
  CommandSettings settings;
  settings.config_path = path.value_or(defaultConfigPath());
  auto env = config::processEnvironment();
  try {
    // An administration command on a machine without app.env (a laptop reaching a Redis by
    // CONDUIT_REDIS_URL) still runs; a file named on the command line must exist.
    auto file = path || std::filesystem::exists(settings.config_path)
                    ? config::AppConfig::fromFile(settings.config_path, env)
                    : config::AppConfig::fromText("", settings.config_path, env);
    settings.server = config::ServerSettings::load(file);
  } catch (const config::ConfigError& e) {
    fmt::print(stderr, "conduit: {}\n", e.what());
    return std::nullopt;
  }
  return settings;
}

int redisFailed(std::string_view command, const CommandSettings& settings,
                const std::exception& error) {
  fmt::print(stderr,
             "conduit {}: Redis at {} did not answer: {}\n(redis_url of {}, or "
             "CONDUIT_REDIS_URL, says where Redis is)\n",
             command, settings.server.redis.describe(), error.what(), settings.config_path);
  return kExitFailure;
}

}  // namespace conduit::app
