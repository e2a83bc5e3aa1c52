#pragma once

#include <string>

namespace conduit::app {

// Sends logs to standard error (journald keeps them under systemd) at `level`: trace, debug,
// info, warn, error, critical or off.
void setUpLogging(const std::string& level);

}  // namespace conduit::app
