#pragma once

#include <optional>
#include <string>

namespace conduit::app {

struct HooksOptions {
  std::string action;                      // list, register, rotate, delete or import
  std::optional<std::string> config_path;  // --config; else the default app.env
  std::string provider;                    // --provider
  std::string repo_id;                     // --repo-id
  std::string repo_path;                   // --repo-path
  std::optional<std::string> secret_file;  // import: --secret-file, `-` for standard input
  bool json = false;                       // --json: the admin API's `data`, for scripts
};

// `conduit hooks ...`: the hook registry in Redis, as the admin routes change it (the same
// checks, the same answers). Only register and rotate print a secret: the one they made.
// Returns 0, 1 when the hook named is not there (or already is, for register and import) or
// Redis cannot be reached, 2 for a bad command line or config.
int hooks(const HooksOptions& options);

}  // namespace conduit::app
