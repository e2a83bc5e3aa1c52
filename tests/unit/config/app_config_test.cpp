#include "config/app_config.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <doctest/doctest.h>

#include "config/config_error.hpp"
#include "config/server_settings.hpp"

using conduit::config::AppConfig;
using conduit::config::ConfigError;
using conduit::config::Environment;

namespace {

Environment fakeEnvironment(std::map<std::string, std::string> variables) {
  return [variables](const std::string& name) -> std::optional<std::string> {
    auto it = variables.find(name);
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("app config: the original service's app.env loads as it is") {
  auto config =
      AppConfig::fromFile(CONDUIT_TEST_DATA_DIR "/original-app.env",
                          fakeEnvironment({{"ELASTIC_REDIS_URL", "redis.internal:6380"}}));
  CHECK(config.get("port") == "9091");
  CHECK(config.get("redis_url") == "redis.internal:6380");
  auto settings = conduit::config::ServerSettings::load(config);
  CHECK(settings.redis.host == "redis.internal");
  CHECK(settings.redis.port == 6380);
  // Keys Conduit does not know are warnings, with their line.
  auto unknown = config.unknownKeys(conduit::config::ServerSettings::knownKeys());
  REQUIRE_FALSE(unknown.empty());
  CHECK(unknown.front().find("original-app.env:4: unknown key `database_url`") !=
        std::string::npos);
}

TEST_CASE("app config: an env:// to an unset variable is an error only for a key that is needed") {
  auto config = AppConfig::fromText("database_url=env://DATABASE_URL\nredis_url=env://REDIS\n",
                                    "app.env", fakeEnvironment({}));
  // Nothing asks for database_url, so loading and reading other keys works.
  CHECK_FALSE(config.get("port").has_value());
  CHECK_THROWS_WITH_AS(config.get("redis_url"),
                       "app.env:2:11: redis_url: environment variable REDIS is not set",
                       ConfigError);
}

TEST_CASE("app config: CONDUIT_<KEY> wins over the file and says where it came from") {
  auto config =
      AppConfig::fromText("port=9091\n", "app.env", fakeEnvironment({{"CONDUIT_PORT", "8080"}}));
  CHECK(config.get("port") == "8080");
  CHECK(config.where("port") == "environment variable CONDUIT_PORT");
  CHECK(AppConfig::overrideVariable("max_body_bytes") == "CONDUIT_MAX_BODY_BYTES");
}

TEST_CASE("app config: file:// reads a secret from a file - dropping one trailing newline") {
  const std::string path = "/tmp/conduit-app-config-test-secret";
  {
    std::ofstream out(path);
    out << "s3cret\n";
  }
  auto config =
      AppConfig::fromText("admin_token=file://" + path + "\n", "app.env", fakeEnvironment({}));
  CHECK(config.get("admin_token") == "s3cret");
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(config.get("admin_token"), doctest::Contains("cannot read"), ConfigError);

  auto relative =
      AppConfig::fromText("admin_token=file://secret.txt\n", "app.env", fakeEnvironment({}));
  CHECK_THROWS_WITH_AS(relative.get("admin_token"), doctest::Contains("absolute path"),
                       ConfigError);
}

TEST_CASE("app config: cred:// reads a systemd credential from $CREDENTIALS_DIRECTORY") {
  const std::string dir = "/tmp/conduit-app-config-test-credentials";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/jira_token") << "t0ken\n";
  auto config = AppConfig::fromText("atlassian_api_key=cred://jira_token\n", "app.env",
                                    fakeEnvironment({{"CREDENTIALS_DIRECTORY", dir}}));
  CHECK(config.get("atlassian_api_key") == "t0ken");

  auto missing = AppConfig::fromText("admin_token=cred://admin_token\n", "app.env",
                                     fakeEnvironment({{"CREDENTIALS_DIRECTORY", dir}}));
  CHECK_THROWS_WITH_AS(missing.get("admin_token"),
                       doctest::Contains(("cannot read " + dir).c_str()), ConfigError);
  auto outside =
      AppConfig::fromText("admin_token=cred://jira_token\n", "app.env", fakeEnvironment({}));
  CHECK_THROWS_WITH_AS(outside.get("admin_token"),
                       doctest::Contains("needs $CREDENTIALS_DIRECTORY"), ConfigError);
  auto climbing = AppConfig::fromText("admin_token=cred://../etc/shadow\n", "app.env",
                                      fakeEnvironment({{"CREDENTIALS_DIRECTORY", dir}}));
  CHECK_THROWS_WITH_AS(climbing.get("admin_token"), doctest::Contains("needs a credential name"),
                       ConfigError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("app config: a missing file is an error naming it") {
  CHECK_THROWS_WITH_AS(AppConfig::fromFile("/nonexistent/app.env", fakeEnvironment({})),
                       doctest::Contains("/nonexistent/app.env: cannot read the config file"),
                       ConfigError);
}

TEST_CASE("app config: the last line for a key wins") {
  auto config = AppConfig::fromText("port=1\nport=2\n", "app.env", fakeEnvironment({}));
  CHECK(config.get("port") == "2");
  CHECK(config.where("port") == "app.env:2:6");
}
