// examples/send-sample.sh as the README has a user run it, against a real `conduit serve`.
#include <signal.h>

#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "process.hpp"
#include "redis_server.hpp"

using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::readFile;
using conduit::testing::RedisServer;

TEST_CASE("send-sample: a log it is appended to keeps what was in it") {
  RedisServer redis;
  const std::string dir = redis.directory();
  std::ofstream(dir + "/app.env") << "redis_url=" << redis.url() << "\nbind=127.0.0.1\n";
  const std::string port = std::to_string(freeLoopbackPort());
  Process serve({CONDUIT_BINARY, "serve", "--config", dir + "/app.env", "-p", port});
  REQUIRE(
      eventually([&] { return serve.standardError().find("listening on") != std::string::npos; }));

  const std::string log = dir + "/session.log";
  std::ofstream(log) << "what the user logged before\n";
  // `>> log 2>&1`: curl -o /dev/stderr used to open that file anew and truncate it.
  Process sample({"/bin/sh", "-c",
                  std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh http://127.0.0.1:" +
                      port + " >> " + log + " 2>&1"});
  CHECK(sample.wait() == 0);
  const std::string text = readFile(log);
  CHECK(text.rfind("what the user logged before\n", 0) == 0);
  CHECK(text.find(R"({"success":true)") != std::string::npos);
  CHECK(text.find(": HTTP 202 (202: queued") != std::string::npos);
  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);
}
