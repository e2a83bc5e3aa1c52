#include "config/worker_settings.hpp"

#include <doctest/doctest.h>

#include "config/config_error.hpp"

using conduit::config::AppConfig;
using conduit::config::ConfigError;
using conduit::config::defaultPluginDir;
using conduit::config::WorkerSettings;

namespace {

WorkerSettings load(const std::string& text) {
  auto config =
      AppConfig::fromText(text, "app.env", [](const std::string&) { return std::nullopt; });
  return WorkerSettings::load(config, "/usr/lib/conduit/plugins");
}

}  // namespace

TEST_CASE("worker settings: the issue's defaults") {
  auto s = load("port=9091\n");
  CHECK(s.worker_port == 9093);  // never the API's `port`
  CHECK(s.worker_concurrency == 16);
  CHECK(s.retry_initial_ms == 1000);
  CHECK(s.retry_max_ms == 600000);
  CHECK(s.retry_max_attempts == 10);
  CHECK(s.shutdown_timeout_ms == 10000);
  CHECK(s.claim_idle_ms == 60000);
  CHECK(s.plugin_dir == "/usr/lib/conduit/plugins");
}

TEST_CASE("worker settings: every key is read - and every bad value reported at once") {
  auto s = load(
      "worker_port=9100\nworker_concurrency=4\nretry_initial_ms=50\nretry_max_ms=900\n"
      "retry_max_attempts=3\nshutdown_timeout_ms=0\nclaim_idle_ms=5000\n"
      "plugin_dir=/opt/conduit/plugins\n");
  CHECK(s.worker_port == 9100);
  CHECK(s.worker_concurrency == 4);
  CHECK(s.retry_max_ms == 900);
  CHECK(s.plugin_dir == "/opt/conduit/plugins");

  try {
    load("worker_concurrency=0\nretry_initial_ms=5000\nretry_max_ms=100\nplugin_dir=plugins\n");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.messages().size() == 3);
    CHECK(e.messages()[0] ==
          "app.env:1:20: worker_concurrency: `0` is not a number from 1 to 1024");
    CHECK(e.messages()[1] ==
          "app.env:3:14: retry_max_ms: must be at least retry_initial_ms (5000)");
    CHECK(e.messages()[2] == "app.env:4:12: plugin_dir: must be an absolute path, not `plugins`");
  }
}

TEST_CASE("worker settings: plugins are found beside the binary's prefix by default") {
  CHECK(defaultPluginDir("/usr/bin/conduit") == "/usr/lib/conduit/plugins");
  CHECK(defaultPluginDir("/opt/c/bin/conduit") == "/opt/c/lib/conduit/plugins");
}
