#include "config/app_config.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/config_error.hpp"

namespace conduit::config {
namespace {

constexpr std::string_view kEnvScheme = "env://";
constexpr std::string_view kFileScheme = "file://";
constexpr std::string_view kCredentialScheme = "cred://";

// A systemd credential name (LoadCredential=NAME:...): a file name, nothing that climbs out of
// $CREDENTIALS_DIRECTORY.
bool isCredentialName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || static_cast<unsigned char>(c) < ' ') return false;
  }
  return true;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string readSecretFile(const std::string& path, const std::string& where,
                           std::string_view key) {
  if (path.empty() || path.front() != '/') {
    throw ConfigError(
        fmt::format("{}: {}: `file://` needs an absolute path, as in "
                    "file:///etc/conduit/secret, got `{}`",
                    where, key, path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(
        fmt::format("{}: {}: cannot read {}: {}", where, key, path, std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string value = contents.str();
  if (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

}  // namespace

Environment processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

AppConfig::AppConfig(std::vector<EnvEntry> entries, std::string file_name, Environment env)
    : entries_(std::move(entries)), file_name_(std::move(file_name)), env_(std::move(env)) {}

AppConfig AppConfig::fromFile(const std::string& path, Environment env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(
        fmt::format("{}: cannot read the config file: {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return fromText(text.str(), path, std::move(env));
}

AppConfig AppConfig::fromText(std::string_view text, std::string file_name, Environment env) {
  auto entries = parseEnvFile(text, file_name);
  return AppConfig(std::move(entries), std::move(file_name), std::move(env));
}

std::string AppConfig::overrideVariable(std::string_view key) {
  std::string name = "CONDUIT_";
  for (char c : key) {
    name += (c == '.' || c == '-') ? '_'
                                   : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

const EnvEntry* AppConfig::entry(std::string_view key) const {
  // The last line for a key wins, as when a shell sources the file.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->key == key) return &*it;
  }
  return nullptr;
}

std::string AppConfig::where(std::string_view key) const {
  std::string variable = overrideVariable(key);
  if (env_(variable)) return fmt::format("environment variable {}", variable);
  if (const EnvEntry* e = entry(key)) {
    return fmt::format("{}:{}:{}", file_name_, e->line, e->value_column);
  }
  return file_name_;
}

std::optional<std::string> AppConfig::get(std::string_view key) const {
  std::string raw;
  if (auto overridden = env_(overrideVariable(key))) {
    raw = std::move(*overridden);
  } else if (const EnvEntry* e = entry(key)) {
    raw = e->value;
  } else {
    return std::nullopt;
  }

  if (startsWith(raw, kEnvScheme)) {
    std::string variable = raw.substr(kEnvScheme.size());
    if (variable.empty()) {
      throw ConfigError(fmt::format("{}: {}: `env://` needs a variable name", where(key), key));
    }
    auto value = env_(variable);
    if (!value) {
      throw ConfigError(
          fmt::format("{}: {}: environment variable {} is not set", where(key), key, variable));
    }
    return value;
  }
  if (startsWith(raw, kFileScheme)) {
    return readSecretFile(raw.substr(kFileScheme.size()), where(key), key);
  }
  if (startsWith(raw, kCredentialScheme)) {
    const std::string name = raw.substr(kCredentialScheme.size());
    if (!isCredentialName(name)) {
      throw ConfigError(
          fmt::format("{}: {}: `cred://` needs a credential name, as in "
                      "cred://admin_token, got `{}`",
                      where(key), key, name));
    }
    auto directory = env_("CREDENTIALS_DIRECTORY");
    if (!directory || directory->empty()) {
      throw ConfigError(fmt::format(
          "{}: {}: `cred://{}` needs $CREDENTIALS_DIRECTORY, which systemd sets for a unit with "
          "LoadCredential={}:<file>; it is not set",
          where(key), key, name, name));
    }
    return readSecretFile(*directory + "/" + name, where(key), key);
  }
  return raw;
}

std::vector<std::string> AppConfig::unknownKeys(
    const std::set<std::string, std::less<>>& known) const {
  std::vector<std::string> unknown;
  for (const auto& [key, line] : keysNotIn(known))
    unknown.push_back(fmt::format("{}:{}: unknown key `{}` is ignored", file_name_, line, key));
  return unknown;
}

std::vector<std::pair<std::string, int>> AppConfig::keysNotIn(
    const std::set<std::string, std::less<>>& known) const {
  std::vector<std::pair<std::string, int>> keys;
  for (const auto& e : entries_) {
    if (known.count(e.key) == 0) keys.emplace_back(e.key, e.line);
  }
  return keys;
}

}  // namespace conduit::config
