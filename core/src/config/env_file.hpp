#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace conduit::config {

// One `key=value` line of an env file, with where it came from.
struct EnvEntry {
  std::string key;
  std::string value;
  int line = 0;
  int value_column = 0;  // 1-based column where the value starts, for error messages
};

// Parses the original service's `app.env` format: `key=value` lines, blank lines and `#`
// comment lines. Whitespace around key and value is dropped; a value may be wrapped in single
// or double quotes, which are removed. A later line for the same key wins, as in a shell.
// Throws ConfigError naming file:line:column for a line that is not `key=value` or whose key
// has characters other than letters, digits, `_`, `.` and `-`.
std::vector<EnvEntry> parseEnvFile(std::string_view text, const std::string& file_name);

}  // namespace conduit::config
