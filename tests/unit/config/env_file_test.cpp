#include "config/env_file.hpp"

#include <doctest/doctest.h>

#include "config/config_error.hpp"

using conduit::config::ConfigError;
using conduit::config::parseEnvFile;

TEST_CASE("env file: key=value lines - comments and blank lines") {
  auto entries =
      parseEnvFile("# a comment\n\nport=9091\n  log_level = info  \nempty=\n", "app.env");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].key == "port");
  CHECK(entries[0].value == "9091");
  CHECK(entries[0].line == 3);
  CHECK(entries[1].key == "log_level");
  CHECK(entries[1].value == "info");
  CHECK(entries[1].line == 4);
  CHECK(entries[2].value.empty());
}

TEST_CASE("env file: quotes around a value are removed - `=` inside a value is kept") {
  auto entries = parseEnvFile("a=\"x y\"\nb='z'\nc=redis://:p=w@host\n", "app.env");
  CHECK(entries[0].value == "x y");
  CHECK(entries[1].value == "z");
  CHECK(entries[2].value == "redis://:p=w@host");
}

TEST_CASE("env file: a line without `=` is an error at file:line:column") {
  try {
    parseEnvFile("port=1\n   nonsense\n", "conf/app.env");
    FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "conf/app.env:2:4: expected `key=value`, found `nonsense`");
  }
}

TEST_CASE("env file: a key with a space or odd character is an error naming its column") {
  CHECK_THROWS_WITH_AS(parseEnvFile("bad key=1\n", "f"), doctest::Contains("f:1:4"), ConfigError);
  CHECK_THROWS_WITH_AS(parseEnvFile("=1\n", "f"), doctest::Contains("f:1:1: missing key"),
                       ConfigError);
}

TEST_CASE("env file: CRLF line endings are accepted") {
  auto entries = parseEnvFile("port=1\r\nbind=0.0.0.0\r\n", "f");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].value == "1");
  CHECK(entries[1].value == "0.0.0.0");
}
