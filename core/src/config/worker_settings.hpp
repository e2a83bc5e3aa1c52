#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/app_config.hpp"

namespace conduit::config {

// The keys of the app config that a worker process (`conduit work`, the worker half of
// `conduit run`) reads, with their defaults. docs/configuration.md describes each one.
struct WorkerSettings {
  // The retry schedule in force when neither `retry_schedule` nor any of the older retry keys
  // is set: a little over a day, so that a day-long outage dead-letters nothing.
  static constexpr std::string_view kDefaultRetrySchedule = "5s,1m,5m,30m,2h,5h,10h,10h";

  uint16_t worker_port = 9093;  // `conduit work`'s /conduit-reactor/ping; never `port`
  int worker_concurrency = 16;  // events in flight per worker process
  // The delay after each attempt (the last attempt's is never waited: attempts are one more
  // than delays). Empty when the older exponential keys below are in force instead.
  std::vector<int64_t> retry_schedule_ms;
  int64_t retry_initial_ms = 1000;      // first backoff        } in force only when one of
  int64_t retry_max_ms = 600000;        // backoff ceiling      } them is set and
  int retry_max_attempts = 10;          // then dead-lettered   } retry_schedule is not
  int64_t shutdown_timeout_ms = 10000;  // how long a stop waits for events in flight
  int64_t claim_idle_ms = 60000;        // a delivery pending this long is taken over
  int64_t checkpoint_ttl_hours = 720;   // checkpoints kept this long after a delivery ends
  std::string consumer_name;            // empty: <hostname>:<port>
  std::string plugin_dir;               // where <plugin>.so files are
  // Settings that were read but are not in force (the older retry keys beside retry_schedule),
  // to be logged as warnings.
  std::vector<std::string> notices;

  // Whether the exponential backoff (retry_initial_ms, ...) is in force.
  bool exponentialRetries() const { return retry_schedule_ms.empty(); }

  // Reads and checks every key, reporting all problems at once in one ConfigError.
  // `default_plugin_dir` applies when `plugin_dir` is unset (see defaultPluginDir()).
  static WorkerSettings load(const AppConfig& config, std::string default_plugin_dir);

  // Every key this struct reads, for "unknown key" warnings.
  static const std::set<std::string, std::less<>>& knownKeys();
};

// A comma-separated list of delays with units, `5s,1m,30m,2h` (ms, s, m, h; spaces around the
// commas allowed), in milliseconds; nullopt with `error` set when it is not one.
std::optional<std::vector<int64_t>> parseDelayList(std::string_view text, std::string& error);

// `../lib/conduit/plugins` relative to the folder of the running binary: /usr/lib/conduit/plugins
// for /usr/bin/conduit, P/lib/conduit/plugins after `cmake --install build --prefix P`.
std::string defaultPluginDir(const std::string& binary_path);

}  // namespace conduit::config
