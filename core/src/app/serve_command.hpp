#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace conduit::app {

struct ServeOptions {
  std::optional<std::string> config_path;  // --config; otherwise the default search
  std::optional<uint16_t> port;            // -p; wins over the config and the environment
};

// `conduit serve`: builds the server from the config, serves until SIGTERM or SIGINT, then
// drains and returns the exit status.
int serve(const ServeOptions& options);

}  // namespace conduit::app
