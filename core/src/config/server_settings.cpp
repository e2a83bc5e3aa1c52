#include "config/server_settings.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "config/settings_reader.hpp"
#include "crypto/hex.hpp"

namespace conduit::config {
namespace {

const std::set<std::string, std::less<>> kLogLevels = {"trace", "debug",    "info", "warn",
                                                       "error", "critical", "off"};

}  // namespace

const std::set<std::string, std::less<>>& ServerSettings::knownKeys() {
  static const std::set<std::string, std::less<>> keys = {"port",
                                                          "bind",
                                                          "log_level",
                                                          "log_format",
                                                          "redis_url",
                                                          "redis_timeout_ms",
                                                          "admin_token",
                                                          "metrics_token",
                                                          "secret_key",
                                                          "max_body_bytes",
                                                          "http_threads",
                                                          "max_header_bytes",
                                                          "header_timeout_ms",
                                                          "request_timeout_ms",
                                                          "max_connections",
                                                          "max_inflight_bytes",
                                                          "delivery_log_hours",
                                                          "delivery_log_max",
                                                          "ui_session_hours",
                                                          "spool_dir",
                                                          "spool_max_bytes",
                                                          "atlassian_domain_url"};
  return keys;
}

ServerSettings ServerSettings::load(const AppConfig& config) {
  ServerSettings s;
  SettingsReader problems(config);

  problems.integer<uint16_t>("port", 0, 65535, s.port, "a port number");
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
  if (auto v = problems.get("log_format")) {
    if (*v == "text" || *v == "json") {
      s.log_format = *v;
    } else {
      problems.add("log_format", fmt::format("`{}` is not text or json", *v));
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
  problems.integer("redis_timeout_ms", 10, 600000, s.redis_timeout_ms);
  if (auto v = problems.get("admin_token")) {
    // An empty token would let anyone in; refuse it rather than treat it as unset.
    if (v->size() < 16) {
      problems.add("admin_token", "must be at least 16 characters (try `openssl rand -hex 32`)");
    } else {
      s.admin_token = *v;
    }
  }
  if (auto v = problems.get("metrics_token")) {
    if (v->size() < 16) {
      problems.add("metrics_token", "must be at least 16 characters (try `openssl rand -hex 32`)");
    } else {
      s.metrics_token = *v;
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
  problems.integer<size_t>("max_body_bytes", 1024, size_t{1} << 31, s.max_body_bytes,
                           "a number of bytes");
  problems.integer("http_threads", 0, 256, s.http_threads);
  problems.integer<size_t>("max_header_bytes", 1024, 1048576, s.max_header_bytes,
                           "a number of bytes");
  problems.integer("header_timeout_ms", 100, 3600000, s.header_timeout_ms);
  problems.integer("request_timeout_ms", 100, 86400000, s.request_timeout_ms);
  problems.integer("max_connections", 1, 1000000, s.max_connections);
  size_t inflight = 0;  // stays 0 when unset (or invalid, already reported)
  problems.integer<size_t>("max_inflight_bytes", 1024, size_t{1} << 40, inflight,
                           "a number of bytes");
  if (inflight == 0) {
    // The default never refuses a body of the largest size allowed by itself.
    s.max_inflight_bytes = std::max(s.max_inflight_bytes, s.max_body_bytes);
  } else if (inflight < s.max_body_bytes) {
    problems.add("max_inflight_bytes",
                 fmt::format("`{}` is less than max_body_bytes ({}), so a body of that size "
                             "would always be refused; make it at least that",
                             inflight, s.max_body_bytes));
  } else {
    s.max_inflight_bytes = inflight;
  }
  problems.integer("delivery_log_hours", 1, 87600, s.delivery_log_hours, "a number of hours");
  problems.integer<int64_t>("delivery_log_max", 1, 100000000, s.delivery_log_max,
                            "a number of records");
  problems.integer("ui_session_hours", 1, 8760, s.ui_session_hours, "a number of hours");
  if (auto v = problems.get("spool_dir")) {
    std::error_code error;
    const auto status = std::filesystem::status(*v, error);
    if (!v->empty() && std::filesystem::exists(status) && !std::filesystem::is_directory(status)) {
      problems.add("spool_dir", fmt::format("`{}` exists and is not a folder; name a folder "
                                            "(it is created if missing), or leave it empty to "
                                            "turn the spool off",
                                            *v));
    } else {
      s.spool_dir = *v;
    }
  }
  // At least room for a few deliveries; at most a petabyte, a typo's guard.
  problems.integer<uint64_t>("spool_max_bytes", 65536, uint64_t{1} << 50, s.spool_max_bytes,
                             "a number of bytes");
  // The Jira worker checks this key fully; the page only needs a safe address to link to.
  if (auto v = problems.get("atlassian_domain_url")) {
    if (v->rfind("https://", 0) == 0 || v->rfind("http://", 0) == 0) {
      std::string base = *v;
      while (!base.empty() && base.back() == '/')
        base.pop_back();
      s.ui_issue_base_url = base + "/browse/";
    }
  }

  problems.throwIfAny();
  return s;
}

}  // namespace conduit::config
