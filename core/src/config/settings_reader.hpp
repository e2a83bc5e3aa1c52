#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "config/app_config.hpp"
#include "config/config_error.hpp"

namespace conduit::config {

// Reads typed settings from an AppConfig and collects every problem, so that one run reports
// them all; throwIfAny() then throws one ConfigError with each at its file:line:column.
class SettingsReader {
 public:
  explicit SettingsReader(const AppConfig& config) : config_(config) {}

  // The key's resolved value; a resolution error is recorded and nullopt returned.
  std::optional<std::string> get(std::string_view key) {
    try {
      return config_.get(key);
    } catch (const ConfigError& e) {
      messages_.emplace_back(e.what());
      return std::nullopt;
    }
  }

  // Sets `target` from an integer key within [min, max]; leaves it (the default) when unset.
  // `noun` names what the number is, for the message: "a port number".
  template <typename Int>
  void integer(std::string_view key, Int min, Int max, Int& target,
               std::string_view noun = "a number") {
    auto text = get(key);
    if (!text) return;
    Int value{};
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
      add(key, fmt::format("`{}` is not {} from {} to {}", *text, noun, min, max));
      return;
    }
    target = value;
  }

  void add(std::string_view key, const std::string& why) {
    messages_.push_back(fmt::format("{}: {}: {}", config_.where(key), key, why));
  }

  void throwIfAny() const {
    if (!messages_.empty()) throw ConfigError(messages_);
  }

 private:
  const AppConfig& config_;
  std::vector<std::string> messages_;
};

}  // namespace conduit::config
