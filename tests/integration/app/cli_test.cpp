#include <signal.h>

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <httplib.h>

#include "process.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"

using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::RedisServer;
using conduit::testing::runToEnd;

namespace {

const std::string kConduit = CONDUIT_BINARY;
const std::string kOriginalConfig = CONDUIT_TEST_DATA_DIR "/original-app.env";

std::string writeConfig(const RedisServer& redis, const std::string& text) {
  const std::string path = redis.directory() + "/app.env";
  std::ofstream(path) << text;
  return path;
}

bool answersPing(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 200000);
  auto response = client.Get("/conduit/ping");
  return response && response->status == 200 && response->body == "pong";
}

}  // namespace

TEST_CASE("cli: `conduit version` prints the version and exits 0") {
  std::string out;
  CHECK(runToEnd({kConduit, "version"}, &out) == 0);
  CHECK(out == std::string(CONDUIT_VERSION_FOR_TESTS) + "\n");
}

TEST_CASE("cli: no command - an unknown command or option is a usage error - status 2") {
  std::string err;
  CHECK(runToEnd({kConduit}, nullptr, &err) == 2);
  CHECK(err.find("usage: conduit") != std::string::npos);
  CHECK(runToEnd({kConduit, "frobnicate"}, nullptr, &err) == 2);
  CHECK(err.find("unknown command `frobnicate`") != std::string::npos);
  CHECK(runToEnd({kConduit, "serve", "--verbose"}, nullptr, &err) == 2);
  CHECK(err.find("unknown option `--verbose`") != std::string::npos);
  CHECK(runToEnd({kConduit, "serve", "-p", "http"}, nullptr, &err) == 2);
  CHECK(err.find("-p: `http` is not a port number") != std::string::npos);
  CHECK(runToEnd({kConduit, "help"}) == 0);
}

TEST_CASE("cli: a missing or malformed config exits 2 naming the key and the line") {
  RedisServer redis;
  std::string err;
  CHECK(runToEnd({kConduit, "serve", "--config", "/nonexistent/app.env"}, nullptr, &err) == 2);
  CHECK(err.find("/nonexistent/app.env: cannot read the config file") != std::string::npos);

  const auto path = writeConfig(redis, "port=9091\nlog_level=chatty\n");
  CHECK(runToEnd({kConduit, "serve", "--config", path}, nullptr, &err) == 2);
  CHECK(err.find(path + ":2:11: log_level:") != std::string::npos);
}

TEST_CASE("cli: the original's app.env needs its env:// variable for redis_url - and says so") {
  std::string err;
  CHECK(runToEnd({kConduit, "serve", "--config", kOriginalConfig}, nullptr, &err,
                 {{"ELASTIC_REDIS_URL", std::nullopt}}) == 2);
  CHECK(err.find("original-app.env:5:11: redis_url: environment variable ELASTIC_REDIS_URL is "
                 "not set") != std::string::npos);
}

TEST_CASE("cli: serve runs on the original's app.env - -p wins - SIGTERM stops it with status 0") {
  RedisServer redis(RedisServer::Listen::kTcp);
  const int port = freeLoopbackPort();
  Process conduit({kConduit, "serve", "--config", kOriginalConfig, "-p", std::to_string(port)},
                  {{"ELASTIC_REDIS_URL", redis.url()}, {"CONDUIT_BIND", "127.0.0.1"}});
  REQUIRE(eventually([&] { return answersPing(port); }));
  conduit.signal(SIGTERM);
  CHECK(conduit.wait() == 0);
  const std::string log = conduit.standardError();
  // The original's keys that nothing reads now, named once as a notice: serve cannot know
  // whether a plugin reads them.
  CHECK(log.find("conduit serve does not read `database_url`") != std::string::npos);
  CHECK(log.find("GET /conduit/ping 200") != std::string::npos);
  CHECK(log.find("stopped") != std::string::npos);
}

TEST_CASE("cli: one log line per request with the delivery id - never a secret or signature") {
  RedisServer redis;
  const int port = freeLoopbackPort();
  const auto path = writeConfig(redis, "bind=127.0.0.1\nredis_url=" + redis.url() + "\n");
  Process conduit({kConduit, "serve", "--config", path, "-p", std::to_string(port)});
  REQUIRE(eventually([&] { return answersPing(port); }));

  httplib::Client client("127.0.0.1", port);
  auto registered =
      client.Post("/conduit/webhooks/register",
                  R"({"provider":"github","repo_path":"o/r","repo_id":"r"})", "application/json");
  REQUIRE(registered);
  const std::string secret = conduit::testing::jsonString(registered->body, "/data/secret");
  const std::string body = R"({"action":"closed"})";
  const std::string signature = conduit::testing::githubSignature(secret, body);
  httplib::Headers headers = {{"X-Hub-Signature-256", signature},
                              {"X-GitHub-Event", "pull_request"},
                              {"X-GitHub-Delivery", "log-check-1"}};
  CHECK(client.Post("/conduit/webhooks/github/r/payload", headers, body, "application/json")
            ->status == 202);
  httplib::Headers wrong = {{"X-Hub-Signature-256", signature + "0"}};
  CHECK(
      client.Post("/conduit/webhooks/github/r/payload", wrong, body, "application/json")->status ==
      401);
  conduit.signal(SIGTERM);
  CHECK(conduit.wait() == 0);

  const std::string log = conduit.standardError();
  CHECK(log.find("POST /conduit/webhooks/register 201") != std::string::npos);
  CHECK(log.find("POST /conduit/webhooks/github/r/payload 202") != std::string::npos);
  CHECK(log.find("delivery=log-check-1") != std::string::npos);
  CHECK(log.find("POST /conduit/webhooks/github/r/payload 401") != std::string::npos);
  CHECK(log.find(secret) == std::string::npos);
  CHECK(log.find(signature.substr(7)) == std::string::npos);
  CHECK(log.find("closed") == std::string::npos);  // nor the body
}

TEST_CASE("cli: CONDUIT_<KEY> overrides the file - ./config/app.env is the default config") {
  RedisServer redis;
  const int port = freeLoopbackPort();
  const auto work = std::filesystem::path(redis.directory()) / "work";
  std::filesystem::create_directories(work / "config");
  std::ofstream(work / "config" / "app.env")
      << "bind=127.0.0.1\nport=1\nredis_url=" << redis.url() << "\n";
  Process conduit({kConduit, "serve"}, {{"CONDUIT_PORT", std::to_string(port)}}, work.string());
  REQUIRE(eventually([&] { return answersPing(port); }));
  conduit.signal(SIGINT);
  CHECK(conduit.wait() == 0);
  CHECK(conduit.standardError().find("starting with config/app.env") != std::string::npos);
}

TEST_CASE("cli: a port already in use exits 1 with the reason") {
  RedisServer redis;
  const int port = freeLoopbackPort();
  const auto path = writeConfig(redis, "bind=127.0.0.1\nredis_url=" + redis.url() + "\n");
  Process first({kConduit, "serve", "--config", path, "-p", std::to_string(port)});
  REQUIRE(eventually([&] { return answersPing(port); }));
  Process second({kConduit, "serve", "--config", path, "-p", std::to_string(port)});
  CHECK(second.wait() == 1);
  CHECK(second.standardError().find("cannot listen on 127.0.0.1:" + std::to_string(port)) !=
        std::string::npos);
}

TEST_CASE("cli: serve starts while Redis is down - answers 503 - and recovers when it is up") {
  RedisServer redis;
  redis.stop();
  const int port = freeLoopbackPort();
  const auto path = writeConfig(redis, "bind=127.0.0.1\nredis_url=" + redis.url() + "\n");
  Process conduit({kConduit, "serve", "--config", path, "-p", std::to_string(port)});
  REQUIRE(eventually([&] { return answersPing(port); }));
  httplib::Client client("127.0.0.1", port);
  const std::string body = R"({"provider":"github","repo_path":"o/r","repo_id":"r"})";
  CHECK(client.Post("/conduit/webhooks/register", body, "application/json")->status == 503);
  redis.start();
  CHECK(client.Post("/conduit/webhooks/register", body, "application/json")->status == 201);
}
