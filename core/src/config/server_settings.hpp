#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "config/app_config.hpp"
#include "config/redis_url.hpp"

namespace conduit::config {

// The keys of the app config that the server reads, with their defaults. docs/configuration.md
// describes each one; keep the two in step.
struct ServerSettings {
  static constexpr uint16_t kDefaultPort = 9091;
  static constexpr size_t kDefaultMaxBodyBytes = 26214400;  // GitHub's 25 MB cap on deliveries

  uint16_t port = kDefaultPort;
  std::string bind = "0.0.0.0";
  std::string log_level = "info";          // trace, debug, info, warn, error, critical, off
  std::string log_format = "text";         // text (for people) or json (one object per line)
  RedisEndpoint redis;                     // redis_url; default 127.0.0.1:6379
  int redis_timeout_ms = 2000;             // connect and command timeout for each Redis call
  std::optional<std::string> admin_token;  // absent: admin routes answer loopback clients only
  // A bearer token accepted by GET /metrics only (besides the admin rules), for Prometheus.
  std::optional<std::string> metrics_token;
  std::optional<std::array<uint8_t, 32>> secret_key;  // absent: hook secrets stored in plain text
  size_t max_body_bytes = kDefaultMaxBodyBytes;
  int http_threads = 0;                           // 0: eight per processor core
  size_t max_header_bytes = 65536;                // request line and headers of one request
  int header_timeout_ms = 10000;                  // a request's header block, from its first byte
  int request_timeout_ms = 60000;                 // a whole request, body included
  int max_connections = 1024;                     // open at once; more are closed at once
  size_t max_inflight_bytes = size_t{256} << 20;  // declared bodies being received, together
  int delivery_log_hours = 168;                   // how long a delivery log record is kept
  int64_t delivery_log_max = 100000;              // the most delivery log records kept
  int ui_session_hours = 12;                      // the web page's sign-in lasts this long
  // Where deliveries wait while Redis cannot take them (docs/operations.md, "When Redis is
  // away: the spool"); empty: no spool, and such deliveries are answered 503.
  std::string spool_dir;
  uint64_t spool_max_bytes = uint64_t{1} << 30;  // the spool's files together; full: 503
  // Where the web page links an issue key: `<atlassian_domain_url>/browse/`, the Jira worker's
  // own key; empty when it is not set (or not an http(s) address), and the page links none.
  std::string ui_issue_base_url;

  // Reads and checks every key, reporting all problems at once in one ConfigError.
  static ServerSettings load(const AppConfig& config);

  // Every key this struct reads, for "unknown key" warnings.
  static const std::set<std::string, std::less<>>& knownKeys();
};

}  // namespace conduit::config
