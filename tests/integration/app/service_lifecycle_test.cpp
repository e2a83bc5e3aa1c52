// What `conduit serve`, `work` and `run` say and do at start and stop, the same for the three:
// the real binary on a real Redis.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>

#include "process.hpp"
#include "redis_server.hpp"

using conduit::store::RedisConnection;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::RedisServer;

namespace {

// app.env (with `extra` lines), the state machines and a workers.yaml of one scripted worker.
void writeConfig(const std::string& dir, const std::string& redis_url, const std::string& extra) {
  std::ofstream(dir + "/app.env") << "redis_url=" << redis_url
                                  << "\nbind=127.0.0.1\nplugin_dir=" << CONDUIT_TEST_PLUGIN_DIR
                                  << "\nscripted_log=" << dir << "/calls.log\n"
                                  << extra;
  std::filesystem::create_directories(dir + "/statemachines");
  std::filesystem::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/statemachines/jira.hcl",
                             dir + "/statemachines/jira.hcl",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir + "/workers.yaml")
      << "workers:\n  first:\n    plugin: scripted\n    statefile: jira.hcl\n"
      << "    projects: [soc]\n";
}

// Runs `command` until it is ready, stops it with SIGTERM and returns its log.
std::string startAndStop(const std::string& command, const std::string& dir) {
  // `run` has no -p: its port is the API's, which CONDUIT_PORT sets.
  const std::string port = std::to_string(freeLoopbackPort());
  std::vector<std::string> argv = {CONDUIT_BINARY, command, "--config", dir + "/app.env"};
  if (command != "run") argv.insert(argv.end(), {"-p", port});
  if (command != "serve") {
    argv.insert(argv.end(),
                {"--hcl-dir", dir + "/statemachines", "--worker-cfg", dir + "/workers.yaml"});
  }
  Process process(argv, {{"NOTIFY_SOCKET", std::nullopt}, {"CONDUIT_PORT", port}});
  const char* ready = command == "work" ? "answering /conduit-reactor/ping" : "listening on";
  REQUIRE(eventually([&] { return process.standardError().find(ready) != std::string::npos; }));
  process.signal(SIGTERM);
  CHECK(process.wait() == 0);
  return process.standardError();
}

bool contains(const std::string& log, const std::string& text) {
  return log.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("start-up: a Redis that may drop deliveries is warned about - by serve, work and run") {
  RedisServer redis;
  {
    RedisConnection admin(redis.endpoint(), std::chrono::seconds(2));
    admin.command({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
    admin.command({"CONFIG", "SET", "appendonly", "no"});
  }
  const std::string dir = redis.directory();
  writeConfig(dir, redis.url(), "log_level=debug\n");
  for (const std::string command : {"serve", "work", "run"}) {
    CAPTURE(command);
    const std::string log = startAndStop(command, dir);
    CHECK(contains(log, "has maxmemory-policy allkeys-lru: when it is full it may evict"));
    CHECK(contains(log, "Set `maxmemory-policy noeviction`"));
    CHECK(contains(log, "has appendonly no: a restart or crash of Redis loses every delivery"));
    CHECK(contains(log, "Set `appendonly yes`"));
  }
}

TEST_CASE("start-up: a durable Redis - or one that refuses CONFIG - is not warned about") {
  RedisServer redis(RedisServer::Listen::kTcp);
  const std::string dir = redis.directory();
  // The test's Redis is durable: append-only, and noeviction, Redis's default.
  writeConfig(dir, redis.url(), "log_level=debug\n");
  std::string log = startAndStop("serve", dir);
  CHECK_FALSE(contains(log, "maxmemory-policy"));
  CHECK_FALSE(contains(log, "appendonly"));

  // A managed Redis keeps CONFIG to its provider: here a user without the right to it, on a
  // Redis that would be warned about.
  {
    RedisConnection admin(redis.endpoint(), std::chrono::seconds(2));
    admin.command({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
    admin.command({"CONFIG", "SET", "appendonly", "no"});
    admin.command({"ACL", "SETUSER", "app", "on", ">app-password", "~*", "&*", "+@all", "-config"});
  }
  writeConfig(dir, "redis://app:app-password@" + redis.url(), "log_level=debug\n");
  log = startAndStop("serve", dir);
  CHECK_FALSE(contains(log, "has maxmemory-policy"));
  CHECK_FALSE(contains(log, "has appendonly"));
  CHECK(contains(log, "does not answer CONFIG GET"));
  CHECK(contains(log, "NOPERM"));
}

TEST_CASE("start-up: serve tells plugins' keys from typos - work warns about both") {
  RedisServer redis;
  const std::string dir = redis.directory();
  writeConfig(dir, redis.url(), "atlassian_email=bot@example.com\nredis_timout_ms=100\n");

  // serve loads no plugin: a key it does not know may well be a plugin's.
  std::string log = startAndStop("serve", dir);
  CHECK_FALSE(contains(log, "unknown key `atlassian_email`"));
  CHECK(contains(log,
                 "conduit serve does not read `scripted_log` (line 4), `atlassian_email` "
                 "(line 5): plugins' keys are read by `conduit work` or `conduit run`"));
  CHECK(contains(log,
                 "app.env:6: unknown key `redis_timout_ms` is ignored: did you mean "
                 "`redis_timeout_ms`?"));

  // work loads the plugins: scripted_log is the scripted plugin's, atlassian_email nobody's.
  log = startAndStop("work", dir);
  CHECK_FALSE(contains(log, "`scripted_log`"));
  CHECK(contains(log, "app.env:5: unknown key `atlassian_email` is ignored"));
  CHECK(contains(log,
                 "app.env:6: unknown key `redis_timout_ms` is ignored: did you mean "
                 "`redis_timeout_ms`?"));
}

TEST_CASE("stop: serve - work - run drain for shutdown_timeout_ms - and say so") {
  RedisServer redis;
  const std::string dir = redis.directory();
  writeConfig(dir, redis.url(), "shutdown_timeout_ms=3000\n");
  CHECK(contains(startAndStop("serve", dir),
                 "Terminated received: finishing the requests in flight (at most 3000 ms)"));
  CHECK(
      contains(startAndStop("work", dir),
               "Terminated received: finishing the deliveries being processed (at most 3000 ms)"));
  CHECK(contains(startAndStop("run", dir),
                 "Terminated received: finishing the requests and "
                 "deliveries in flight (at most 3000 ms)"));
}

TEST_CASE("reload: a trigger whose event no state machine has is refused - the old one kept") {
  RedisServer redis;
  const std::string dir = redis.directory();
  writeConfig(dir, redis.url(), "");
  Process worker(
      {CONDUIT_BINARY, "work", "--config", dir + "/app.env", "--hcl-dir", dir + "/statemachines",
       "--worker-cfg", dir + "/workers.yaml", "-p", std::to_string(freeLoopbackPort())},
      {{"NOTIFY_SOCKET", std::nullopt}});
  REQUIRE(eventually([&] { return contains(worker.standardError(), "answering"); }));
  std::ofstream(dir + "/workers.yaml", std::ios::trunc)
      << "workers:\n  first:\n    plugin: scripted\n    statefile: jira.hcl\n"
      << "    projects: [soc]\n    triggers:\n      pull_request.merged: nxt\n";
  worker.signal(SIGHUP);
  REQUIRE(eventually([&] { return contains(worker.standardError(), "reload refused"); }));
  CHECK(contains(worker.standardError(),
                 "workers.yaml:7:28: worker `first`: trigger `pull_request.merged: nxt`: no state "
                 "machine of its projects (SOC) has the event `nxt`; their events: next, prev"));
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
}

TEST_CASE("stop: serve leaves a request stuck on Redis after shutdown_timeout_ms - exit 0") {
  RedisServer redis;
  long long redis_pid = 0;
  {
    RedisConnection admin(redis.endpoint(), std::chrono::seconds(2));
    const std::string info = admin.command({"INFO", "server"}).text;
    const size_t at = info.find("process_id:");
    REQUIRE(at != std::string::npos);
    redis_pid = std::stoll(info.substr(at + 11));
  }
  const std::string dir = redis.directory();
  std::ofstream(dir + "/app.env") << "redis_url=" << redis.url()
                                  << "\nbind=127.0.0.1\nredis_timeout_ms=20000\n"
                                  << "shutdown_timeout_ms=300\n";
  const int port = freeLoopbackPort();
  Process serve(
      {CONDUIT_BINARY, "serve", "--config", dir + "/app.env", "-p", std::to_string(port)});
  REQUIRE(eventually([&] { return contains(serve.standardError(), "listening on"); }));

  // Redis stops answering (a paused VM): the payload request waits on it for redis_timeout_ms.
  REQUIRE(::kill(static_cast<pid_t>(redis_pid), SIGSTOP) == 0);
  // Continued whatever happens, so that the RedisServer can stop it.
  struct Continue {
    pid_t pid;
    ~Continue() { ::kill(pid, SIGCONT); }
  } continue_redis{static_cast<pid_t>(redis_pid)};
  std::thread client([port] {
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(30, 0);
    http.Post("/conduit/webhooks/github/repo/payload",
              {{"X-GitHub-Event", "pull_request"}, {"X-GitHub-Delivery", "stuck-1"}}, "{}",
              "application/json");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto stopped = std::chrono::steady_clock::now();
  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);
  // Within the 300 ms grace and the time to start exiting: not the 10 s serve used to wait, nor
  // the 20 s of redis_timeout_ms.
  CHECK(std::chrono::steady_clock::now() - stopped < std::chrono::seconds(5));
  CHECK(contains(serve.standardError(), "(at most 300 ms)"));
  CHECK(contains(serve.standardError(), "stopped with 1 requests still running"));
  ::kill(static_cast<pid_t>(redis_pid), SIGCONT);
  client.join();
}

// A DNS server that does not answer, on this machine alone: conduit runs in a mount namespace
// of its own whose /etc/resolv.conf names 127.0.0.77, where this test holds port 53 and never
// answers. getaddrinfo() then waits resolv.conf's timeout times its attempts (6 s here).
TEST_CASE("start-up: a Redis name that does not resolve costs redis_timeout_ms - not the DNS's") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: a mount namespace and port 53 need root");
    return;
  }
  const int silent_dns = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(53);
  ::inet_pton(AF_INET, "127.0.0.77", &address.sin_addr);
  if (::bind(silent_dns, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(silent_dns);
    MESSAGE("skipped: 127.0.0.77:53 is taken");
    return;
  }
  RedisServer redis;  // only for its folder
  const std::string dir = redis.directory();
  std::ofstream(dir + "/resolv.conf") << "nameserver 127.0.0.77\noptions timeout:3 attempts:2\n";
  std::ofstream(dir + "/app.env") << "redis_url=redis://redis.conduit.test:6379\n"
                                  << "bind=127.0.0.1\nredis_timeout_ms=500\n";
  const auto started = std::chrono::steady_clock::now();
  Process serve({"/usr/bin/unshare", "--mount", "/bin/sh", "-c",
                 "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"", dir + "/resolv.conf",
                 CONDUIT_BINARY, "serve", "--config", dir + "/app.env", "-p",
                 std::to_string(freeLoopbackPort())});
  REQUIRE(eventually([&] { return contains(serve.standardError(), "listening on"); },
                     std::chrono::seconds(20)));
  // Two connects at start (the durability check, then the queue's), each given up at 500 ms.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
  CHECK(contains(serve.standardError(),
                 "is not answering yet: Redis: cannot connect: cannot resolve "
                 "redis.conduit.test: no answer in time"));
  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);
  ::close(silent_dns);
}
