#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/env_file.hpp"

namespace conduit::config {

// Looks up an environment variable. Injected so that tests need not touch the process's own.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// The real process environment.
Environment processEnvironment();

// The app config: the entries of an `app.env` file, overlaid by `CONDUIT_<KEY>` environment
// variables, which win. Values are resolved when asked for, not when loaded, so that an
// `env://NAME` naming an unset variable is an error only for a key that something needs.
//
// Value forms: plain text; `env://NAME` (the variable NAME); `file:///absolute/path` (the file's
// contents, one trailing newline dropped, for secrets kept out of the config); `cred://NAME`
// (the systemd credential NAME: $CREDENTIALS_DIRECTORY/NAME, read as file:// reads).
class AppConfig {
 public:
  // Reads and parses `path`. Throws ConfigError when it cannot be read or parsed.
  static AppConfig fromFile(const std::string& path, Environment env);
  static AppConfig fromText(std::string_view text, std::string file_name, Environment env);

  // The resolved value of `key`, or nullopt when neither the file nor CONDUIT_<KEY> sets it.
  // Throws ConfigError (naming the key and where it was set) when the value cannot be resolved.
  std::optional<std::string> get(std::string_view key) const;

  // Where `key` was set, for messages: `app.env:3:6` or `environment variable CONDUIT_PORT`;
  // the file name alone when the key is not set.
  std::string where(std::string_view key) const;

  // `file:line: unknown key` for each key of the file not in `known`, for start-up warnings.
  std::vector<std::string> unknownKeys(const std::set<std::string, std::less<>>& known) const;

  // The keys of the file not in `known`, each with its line, in the file's order.
  std::vector<std::pair<std::string, int>> keysNotIn(
      const std::set<std::string, std::less<>>& known) const;

  const std::string& fileName() const { return file_name_; }

  // The environment variable that overrides `key`: `CONDUIT_` and the key in upper case.
  static std::string overrideVariable(std::string_view key);

 private:
  AppConfig(std::vector<EnvEntry> entries, std::string file_name, Environment env);
  const EnvEntry* entry(std::string_view key) const;

  std::vector<EnvEntry> entries_;
  std::string file_name_;
  Environment env_;
};

}  // namespace conduit::config
