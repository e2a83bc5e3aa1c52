#include "config/env_file.hpp"

#include <cctype>

#include <fmt/format.h>

#include "config/config_error.hpp"

namespace conduit::config {
namespace {

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

bool isKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

}  // namespace

std::vector<EnvEntry> parseEnvFile(std::string_view text, const std::string& file_name) {
  std::vector<EnvEntry> entries;
  int line_number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    ++line_number;
    pos = end + 1;

    size_t first = 0;
    while (first < line.size() && isSpace(line[first]))
      ++first;
    if (first == line.size() || line[first] == '#') continue;

    size_t eq = line.find('=', first);
    if (eq == std::string_view::npos) {
      throw ConfigError(fmt::format("{}:{}:{}: expected `key=value`, found `{}`", file_name,
                                    line_number, first + 1, line.substr(first)));
    }
    std::string_view key = line.substr(first, eq - first);
    while (!key.empty() && isSpace(key.back()))
      key.remove_suffix(1);
    if (key.empty()) {
      throw ConfigError(
          fmt::format("{}:{}:{}: missing key before `=`", file_name, line_number, first + 1));
    }
    for (size_t i = 0; i < key.size(); ++i) {
      if (!isKeyChar(key[i])) {
        throw ConfigError(fmt::format("{}:{}:{}: invalid character `{}` in key `{}`", file_name,
                                      line_number, first + i + 1, key[i], key));
      }
    }

    size_t value_start = eq + 1;
    while (value_start < line.size() && isSpace(line[value_start]))
      ++value_start;
    std::string_view value = line.substr(value_start);
    while (!value.empty() && isSpace(value.back()))
      value.remove_suffix(1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }

    entries.push_back(EnvEntry{std::string(key), std::string(value), line_number,
                               static_cast<int>(value_start + 1)});
  }
  return entries;
}

}  // namespace conduit::config
