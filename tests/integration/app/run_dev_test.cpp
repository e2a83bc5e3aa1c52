// `make run` (scripts/run-dev.sh) as a user meets it: the real script, the real conduit, its own
// redis-server, in a folder of the test's own.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <doctest/doctest.h>

#include "process.hpp"
#include "store/redis_connection.hpp"

using conduit::store::RedisConnection;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::readFile;

namespace fs = std::filesystem;

namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("make run: a second one in the folder refuses - a killed conduit comes back alone") {
  const fs::path dir =
      fs::temp_directory_path() / ("conduit-run-dev-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::create_directory_symlink(CONDUIT_CONFIG_DIR, dir / "config");
  const std::string script = std::string(CONDUIT_SOURCE_DIR) + "/scripts/run-dev.sh";
  // A Jira of its own (nothing answers there) so that no simulator takes the fixed port 9095.
  const std::map<std::string, std::optional<std::string>> env = {
      {"CONDUIT_PORT", std::to_string(freeLoopbackPort())},
      {"CONDUIT_ATLASSIAN_DOMAIN_URL", "http://127.0.0.1:1"},
      {"CONDUIT_ATLASSIAN_EMAIL", "dev@example.test"},
      {"CONDUIT_ATLASSIAN_API_KEY", "token"},
      {"NOTIFY_SOCKET", std::nullopt}};
  const fs::path var = dir / "var";

  Process first({script, CONDUIT_BINARY}, env, dir.string());
  REQUIRE(eventually([&] { return count(first.standardError(), "listening on") == 1; },
                     std::chrono::seconds(30)));
  const std::string config = readFile((var / "app.env").string());
  const auto redis_log = fs::file_size(var / "redis.log");
  conduit::config::RedisEndpoint endpoint;
  endpoint.kind = conduit::config::RedisEndpoint::Kind::kUnix;
  endpoint.socket_path = (var / "redis.sock").string();
  RedisConnection redis(endpoint, std::chrono::seconds(2));
  redis.command({"SET", "make-run-test", "kept"});

  SUBCASE("a second make run refuses - and leaves the first one's Redis and files alone") {
    Process second({script, CONDUIT_BINARY}, env, dir.string());
    CHECK(second.wait() == 1);
    CHECK(second.standardError().find("make run: another `make run` is already running in " +
                                      dir.string()) != std::string::npos);
    CHECK(second.standardError().find("redis-server ") != std::string::npos);
    CHECK(readFile((var / "app.env").string()) == config);
    CHECK(fs::file_size(var / "redis.log") == redis_log);
    CHECK(redis.command({"GET", "make-run-test"}).text == "kept");
    CHECK(first.running());
  }

  SUBCASE("kill -9 of conduit: Redis keeps running with its data - conduit is started again") {
    const int pid = std::stoi(readFile((var / "conduit.pid").string()));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    REQUIRE(eventually([&] { return count(first.standardError(), "listening on") == 2; },
                       std::chrono::seconds(30)));
    CHECK(first.standardError().find("make run: conduit was killed (SIGKILL); Redis and the Jira "
                                     "simulator keep running") != std::string::npos);
    // The same connection: the same Redis, never restarted.
    CHECK(redis.command({"GET", "make-run-test"}).text == "kept");
  }

  first.signal(SIGTERM);
  CHECK(first.wait() == 0);
  CHECK_FALSE(fs::exists(var / "run.pids"));
  CHECK_THROWS_AS(redis.command({"PING"}), conduit::store::RedisUnavailable);
  fs::remove_all(dir);
}
