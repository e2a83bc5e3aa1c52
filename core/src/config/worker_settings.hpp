#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "config/app_config.hpp"

namespace conduit::config {

// The keys of the app config that a worker process (`conduit work`, the worker half of
// `conduit run`) reads, with their defaults. docs/configuration.md describes each one.
struct WorkerSettings {
  uint16_t worker_port = 9093;          // `conduit work`'s /conduit-reactor/ping; never `port`
  int worker_concurrency = 16;          // events in flight per worker process
  int64_t retry_initial_ms = 1000;      // first backoff
  int64_t retry_max_ms = 600000;        // backoff ceiling
  int retry_max_attempts = 10;          // then the delivery is dead-lettered
  int64_t shutdown_timeout_ms = 10000;  // how long a stop waits for events in flight
  int64_t claim_idle_ms = 60000;        // a delivery pending this long is taken over
  std::string plugin_dir;               // where <plugin>.so files are

  // Reads and checks every key, reporting all problems at once in one ConfigError.
  // `default_plugin_dir` applies when `plugin_dir` is unset (see defaultPluginDir()).
  static WorkerSettings load(const AppConfig& config, std::string default_plugin_dir);

  // Every key this struct reads, for "unknown key" warnings.
  static const std::set<std::string, std::less<>>& knownKeys();
};

// `../lib/conduit/plugins` relative to the folder of the running binary: /usr/lib/conduit/plugins
// for /usr/bin/conduit, P/lib/conduit/plugins after `cmake --install build --prefix P`.
std::string defaultPluginDir(const std::string& binary_path);

}  // namespace conduit::config
