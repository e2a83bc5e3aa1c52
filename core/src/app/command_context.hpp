#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "config/server_settings.hpp"

// What the administration commands (`conduit hooks`, `deliveries`, `dead-letters`) share: they
// read app.env as the server does and then talk to Redis themselves, so they work while no
// server runs.
namespace conduit::app {

struct CommandSettings {
  std::string config_path;  // the file read, or the default path that did not exist
  config::ServerSettings server;
};

// `path` (--config), else the default app.env; where no --config is given and the default file
// does not exist, the defaults and the CONDUIT_<KEY> variables alone. Prints the problem and
// returns nullopt (exit 2) when the config cannot be read or is wrong.
std::optional<CommandSettings> readCommandSettings(const std::optional<std::string>& path);

// Prints that Redis could not be reached (or refused a command), naming where it was looked for
// and the config key that says so; returns the exit status for it (1).
int redisFailed(std::string_view command, const CommandSettings& settings,
                const std::exception& error);

}  // namespace conduit::app
