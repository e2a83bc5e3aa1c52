#include "config/server_settings.hpp"

#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "crypto/hex.hpp"

namespace conduit::config {
namespace {

template <typename Int>
std::optional<Int> parseInteger(const std::string& text, Int min, Int max) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

const std::set<std::string, std::less<>> kLogLevels = {"trace", "debug",    "info", "warn",
                                                       "error", "critical", "off"};

// Collects problems so that one run reports all of them.
class Problems {
 public:
  explicit Problems(const AppConfig& config) : config_(config) {}

  // The key's resolved value; a resolution error is recorded and nullopt returned.
  std::optional<std::string> get(std::string_view key) {
    try {
      return config_.get(key);
    } catch (const ConfigError& e) {
      messages_.emplace_back(e.what());
      return std::nullopt;
    }
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

}  // namespace

const std::set<std::string, std::less<>>& ServerSettings::knownKeys() {
  static const std::set<std::string, std::less<>> keys = {
      "port",        "bind",       "log_level",      "redis_url",   "redis_timeout_ms",
      "admin_token", "secret_key", "max_body_bytes", "http_threads"};
  return keys;
}

ServerSettings ServerSettings::load(const AppConfig& config) {
  ServerSettings s;
  Problems problems(config);

  if (auto v = problems.get("port")) {
    if (auto port = parseInteger<uint16_t>(*v, 0, 65535)) {
      s.port = *port;
    } else {
      problems.add("port", fmt::format("`{}` is not a port number from 0 to 65535", *v));
    }
  }
  if (auto v = problems.get("bind")) {
    if (v->empty()) {
      problems.add("bind", "is empty; use an address such as 0.0.0.0 or 127.0.0.1");
    } else {
      s.bind = *v;
    }
  }
  if (auto v = problems.get("log_level")) {
    if (kLogLevels.count(*v) != 0) {
      s.log_level = *v;
    } else {
      problems.add(
          "log_level",
          fmt::format("`{}` is not one of trace, debug, info, warn, error, critical, off", *v));
    }
  }
  if (auto v = problems.get("redis_url")) {
    std::string why;
    if (auto endpoint = parseRedisUrl(*v, why)) {
      s.redis = *endpoint;
    } else {
      problems.add("redis_url", why);
    }
  }
  if (auto v = problems.get("redis_timeout_ms")) {
    if (auto ms = parseInteger<int>(*v, 10, 600000)) {
      s.redis_timeout_ms = *ms;
    } else {
      problems.add("redis_timeout_ms", fmt::format("`{}` is not a number from 10 to 600000", *v));
    }
  }
  if (auto v = problems.get("admin_token")) {
    // An empty token would let anyone in; refuse it rather than treat it as unset.
    if (v->size() < 16) {
      problems.add("admin_token", "must be at least 16 characters (try `openssl rand -hex 32`)");
    } else {
      s.admin_token = *v;
    }
  }
  if (auto v = problems.get("secret_key")) {
    auto bytes = crypto::fromHex(*v);
    if (!bytes || bytes->size() != 32) {
      // Never echo the value: it is a secret.
      problems.add("secret_key",
                   "must be 32 bytes written as 64 hex characters (`openssl rand -hex 32`)");
    } else {
      std::array<uint8_t, 32> key{};
      std::copy(bytes->begin(), bytes->end(), key.begin());
      s.secret_key = key;
    }
  }
  if (auto v = problems.get("max_body_bytes")) {
    if (auto bytes = parseInteger<size_t>(*v, 1024, size_t{1} << 31)) {
      s.max_body_bytes = *bytes;
    } else {
      problems.add("max_body_bytes",
                   fmt::format("`{}` is not a number of bytes from 1024 to 2147483648", *v));
    }
  }
  if (auto v = problems.get("http_threads")) {
    if (auto threads = parseInteger<int>(*v, 0, 256)) {
      s.http_threads = *threads;
    } else {
      problems.add("http_threads", fmt::format("`{}` is not a number from 0 to 256", *v));
    }
  }

  problems.throwIfAny();
  return s;
}

}  // namespace conduit::config
