#include "config/server_settings.hpp"

#include <doctest/doctest.h>

#include "config/config_error.hpp"

using conduit::config::AppConfig;
using conduit::config::ConfigError;
using conduit::config::ServerSettings;

namespace {

ServerSettings load(const std::string& text) {
  auto config =
      AppConfig::fromText(text, "app.env", [](const std::string&) { return std::nullopt; });
  return ServerSettings::load(config);
}

}  // namespace

TEST_CASE("server settings: defaults when the file sets nothing") {
  auto s = load("");
  CHECK(s.port == 9091);
  CHECK(s.bind == "0.0.0.0");
  CHECK(s.log_level == "info");
  CHECK(s.redis.host == "127.0.0.1");
  CHECK(s.redis.port == 6379);
  CHECK(s.max_body_bytes == 26214400);
  CHECK_FALSE(s.admin_token.has_value());
  CHECK_FALSE(s.secret_key.has_value());
}

TEST_CASE("server settings: every key is read") {
  auto s = load(
      "port=8000\nbind=127.0.0.1\nlog_level=debug\nredis_url=unix:///tmp/r.sock\n"
      "admin_token=0123456789abcdef0123\n"
      "secret_key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
      "max_body_bytes=1048576\nhttp_threads=3\nredis_timeout_ms=500\n");
  CHECK(s.port == 8000);
  CHECK(s.bind == "127.0.0.1");
  CHECK(s.log_level == "debug");
  CHECK(s.redis.socket_path == "/tmp/r.sock");
  CHECK(s.admin_token == "0123456789abcdef0123");
  REQUIRE(s.secret_key.has_value());
  CHECK((*s.secret_key)[31] == 0x1f);
  CHECK(s.max_body_bytes == 1048576);
  CHECK(s.http_threads == 3);
  CHECK(s.redis_timeout_ms == 500);
}

TEST_CASE("server settings: each malformed value names its key and line - all at once") {
  try {
    load("port=http\nlog_level=loud\nredis_url=host:0\nmax_body_bytes=-1\n");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.messages().size() == 4);
    CHECK(e.messages()[0] == "app.env:1:6: port: `http` is not a port number from 0 to 65535");
    CHECK(e.messages()[1].find("app.env:2:11: log_level:") == 0);
    CHECK(e.messages()[2].find("app.env:3:11: redis_url: port `0`") == 0);
    CHECK(e.messages()[3].find("app.env:4:16: max_body_bytes:") == 0);
  }
}

TEST_CASE("server settings: a bad secret_key or admin_token is refused without echoing it") {
  try {
    load("secret_key=deadbeef-not-hex\nadmin_token=short\n");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    std::string what = e.what();
    CHECK(what.find("secret_key: must be 32 bytes written as 64 hex characters") !=
          std::string::npos);
    CHECK(what.find("admin_token: must be at least 16 characters") != std::string::npos);
    CHECK(what.find("deadbeef") == std::string::npos);
    CHECK(what.find("short\n") == std::string::npos);
  }
}

TEST_CASE("server settings: the HTTP edge's limits - defaults - read - and range-checked") {
  auto defaults = load("");
  CHECK(defaults.max_header_bytes == 65536);
  CHECK(defaults.header_timeout_ms == 10000);
  CHECK(defaults.request_timeout_ms == 60000);
  CHECK(defaults.max_connections == 1024);
  CHECK(defaults.max_inflight_bytes == 268435456);
  CHECK(ServerSettings::knownKeys().count("max_inflight_bytes") == 1);

  auto s = load(
      "max_header_bytes=2048\nheader_timeout_ms=500\nrequest_timeout_ms=1500\n"
      "max_connections=10\nmax_inflight_bytes=52428800\n");
  CHECK(s.max_header_bytes == 2048);
  CHECK(s.header_timeout_ms == 500);
  CHECK(s.request_timeout_ms == 1500);
  CHECK(s.max_connections == 10);
  CHECK(s.max_inflight_bytes == 52428800);

  try {
    load(
        "max_header_bytes=1023\nheader_timeout_ms=0\nrequest_timeout_ms=soon\n"
        "max_connections=0\nmax_inflight_bytes=1048576\n");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.messages().size() == 5);
    CHECK(e.messages()[0] ==
          "app.env:1:18: max_header_bytes: `1023` is not a number of bytes from 1024 to 1048576");
    CHECK(e.messages()[1].find("app.env:2:19: header_timeout_ms: `0` is not") == 0);
    CHECK(e.messages()[2].find("app.env:3:20: request_timeout_ms: `soon` is not") == 0);
    CHECK(e.messages()[3].find("app.env:4:17: max_connections: `0` is not") == 0);
    // Less than max_body_bytes (25 MB by default): a body of that size would always be refused.
    CHECK(e.messages()[4].find("app.env:5:20: max_inflight_bytes: `1048576` is less than "
                               "max_body_bytes (26214400)") == 0);
  }
}

TEST_CASE("server settings: unset - max_inflight_bytes grows to a larger max_body_bytes") {
  auto s = load("max_body_bytes=1073741824\n");
  CHECK(s.max_inflight_bytes == 1073741824);
}

TEST_CASE("server settings: metrics_token and log_format - read - checked - env:// resolved") {
  auto s = load("");
  CHECK_FALSE(s.metrics_token.has_value());
  CHECK(s.log_format == "text");

  s = load("metrics_token=metrics-0123456789abcdef\nlog_format=json\n");
  CHECK(s.metrics_token == "metrics-0123456789abcdef");
  CHECK(s.log_format == "json");

  auto config = AppConfig::fromText("metrics_token=env://SCRAPE_TOKEN\n", "app.env",
                                    [](const std::string& name) -> std::optional<std::string> {
                                      if (name == "SCRAPE_TOKEN") return "from-the-env-0123456789";
                                      return std::nullopt;
                                    });
  CHECK(ServerSettings::load(config).metrics_token == "from-the-env-0123456789");

  try {
    load("metrics_token=short-secret\nlog_format=yaml\n");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find("app.env:1:15: metrics_token: must be at least 16 characters") !=
          std::string::npos);
    CHECK(what.find("short-secret") == std::string::npos);  // never echoed
    CHECK(what.find("app.env:2:12: log_format: `yaml` is not text or json") != std::string::npos);
  }
}

TEST_CASE(
    "server settings: the delivery log's bounds - defaults, read, and refused unless positive") {
  auto defaults = load("");
  CHECK(defaults.delivery_log_hours == 168);
  CHECK(defaults.delivery_log_max == 100000);

  auto s = load("delivery_log_hours=24\ndelivery_log_max=5000000\n");
  CHECK(s.delivery_log_hours == 24);
  CHECK(s.delivery_log_max == 5000000);

  try {
    load("delivery_log_hours=0\ndelivery_log_max=-5\n");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.messages().size() == 2);
    CHECK(e.messages()[0] ==
          "app.env:1:20: delivery_log_hours: `0` is not a number of hours from 1 to 87600");
    CHECK(e.messages()[1] ==
          "app.env:2:18: delivery_log_max: `-5` is not a number of records "
          "from 1 to 100000000");
  }
  CHECK_THROWS_AS(load("delivery_log_max=lots\n"), ConfigError);
}

TEST_CASE("server settings: the spool - off by default, a folder and a bound, checked") {
  auto off = load("");
  CHECK(off.spool_dir.empty());
  CHECK(off.spool_max_bytes == 1073741824);
  CHECK(load("spool_dir=\n").spool_dir.empty());  // empty: off, as unset

  auto on = load("spool_dir=var/spool\nspool_max_bytes=65536\n");
  CHECK(on.spool_dir == "var/spool");
  CHECK(on.spool_max_bytes == 65536);

  try {
    // A file where the folder should be, and a bound below a few deliveries.
    load("spool_dir=" CONDUIT_CONFIG_DIR "/app.env\nspool_max_bytes=1000\n");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    REQUIRE(e.messages().size() == 2);
    CHECK(e.messages()[0].find("app.env:1:11: spool_dir: `" CONDUIT_CONFIG_DIR
                               "/app.env` exists and is not a folder") == 0);
    CHECK(e.messages()[1] ==
          "app.env:2:17: spool_max_bytes: `1000` is not a number of bytes from 65536 to "
          "1125899906842624");
  }
}
