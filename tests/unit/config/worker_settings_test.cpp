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

TEST_CASE("worker settings: the default retry schedule spans more than a day") {
  auto s = load("port=9091\n");
  CHECK_FALSE(s.exponentialRetries());
  CHECK(s.retry_schedule_ms ==
        std::vector<int64_t>{5000, 60000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000});
  int64_t span = 0;
  for (auto delay : s.retry_schedule_ms)
    span += delay;
  CHECK(span * 9 / 10 >= 24 * 3600000LL);  // even with the jitter taken away
  CHECK(s.checkpoint_ttl_hours == 720);
  CHECK(s.consumer_name.empty());
  CHECK(s.notices.empty());
}

TEST_CASE("worker settings: retry_schedule - delays with units, spaces allowed") {
  auto s = load("retry_schedule=250ms, 5s,2m ,1h\n");
  CHECK(s.retry_schedule_ms == std::vector<int64_t>{250, 5000, 120000, 3600000});
}

TEST_CASE("worker settings: an older retry key alone keeps the exponential policy") {
  auto s = load("retry_max_attempts=3\n");
  CHECK(s.exponentialRetries());
  CHECK(s.retry_max_attempts == 3);
  CHECK(s.retry_initial_ms == 1000);
  CHECK(s.notices.empty());
}

TEST_CASE("worker settings: retry_schedule wins over the older keys - with a notice for each") {
  auto s = load("retry_initial_ms=50\nretry_schedule=1s,2s\nretry_max_attempts=3\n");
  CHECK_FALSE(s.exponentialRetries());
  CHECK(s.retry_schedule_ms == std::vector<int64_t>{1000, 2000});
  REQUIRE(s.notices.size() == 2);
  CHECK(s.notices[0] ==
        "app.env:1:18: retry_initial_ms is ignored: retry_schedule is set, and wins");
  CHECK(s.notices[1].find("retry_max_attempts is ignored") != std::string::npos);
}

TEST_CASE("worker settings: a bad retry_schedule is an error naming the key and the item") {
  for (const auto& [text, why] :
       std::vector<std::pair<std::string, std::string>>{{"5s,10", "`10` is not a delay"},
                                                        {"5s,,1m", "`` is not a delay"},
                                                        {"5x", "`5x` is not a delay"},
                                                        {"-5s", "`-5s` is not a delay"},
                                                        {"0s", "`0s` is not from 1ms to 168h"},
                                                        {"200h", "`200h` is not from 1ms to 168h"},
                                                        {"", "`` is not a delay"},
                                                        {"99999999999999999999ms",
                                                         "`99999999999999999999ms` is not from "
                                                         "1ms to 168h"},
                                                        {"5 s", "`5 s` is not a delay"}}) {
    INFO(text);
    try {
      load("retry_schedule=" + text + "\n");
      FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
      REQUIRE(e.messages().size() == 1);
      CHECK(e.messages()[0].find("app.env:1:16: retry_schedule: " + why) == 0);
    }
  }
}

TEST_CASE("worker settings: checkpoints must outlive the retry schedule") {
  CHECK(load("checkpoint_ttl_hours=48\n").checkpoint_ttl_hours == 48);
  try {
    load("checkpoint_ttl_hours=24\n");  // the default schedule spans 27.6 h
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.messages().size() == 1);
    CHECK(e.messages()[0].find("checkpoint_ttl_hours: must be more than the retry schedule") !=
          std::string::npos);
  }
  CHECK(load("checkpoint_ttl_hours=1\nretry_schedule=1m\n").checkpoint_ttl_hours == 1);
}

TEST_CASE("worker settings: consumer_name - set, or refused when it is not a name") {
  CHECK(load("consumer_name=host-a:9093\n").consumer_name == "host-a:9093");
  CHECK_THROWS_AS(load("consumer_name=two words\n"), ConfigError);
}
