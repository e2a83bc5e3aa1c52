#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace conduit::config {

// A configuration problem the operator must fix. Each message already says where
// ("app.env:12: port: ...") so callers print it as it is; the process exits with status 2.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(const std::string& message) : std::runtime_error(message) {}
  explicit ConfigError(const std::vector<std::string>& messages)
      : std::runtime_error(join(messages)), messages_(messages) {}

  // Every problem found, one per entry (validation reports them all at once).
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  static std::string join(const std::vector<std::string>& messages) {
    std::string all;
    for (const auto& m : messages) {
      if (!all.empty()) all += '\n';
      all += m;
    }
    return all;
  }
  std::vector<std::string> messages_;
};

}  // namespace conduit::config
