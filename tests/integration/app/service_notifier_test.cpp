// What a Type=notify unit hears from conduit: the real binary, with $NOTIFY_SOCKET pointing at a
// datagram socket this test reads, as systemd's would be.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "process.hpp"
#include "redis_server.hpp"

using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::RedisServer;

namespace {

// systemd's side of sd_notify(): every message received, in order.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    timeval timeout{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    reader_ = std::thread([this] {
      char buffer[4096];
      while (!done_) {
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) continue;
        std::lock_guard lock(mutex_);
        messages_.emplace_back(buffer, static_cast<size_t>(n));
      }
    });
  }
  ~NotifySocket() {
    done_ = true;
    reader_.join();
    ::close(fd_);
    std::filesystem::remove(path_);
  }

  // How many messages so far contain `text`.
  int count(const std::string& text) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& message : messages_)
      n += message.find(text) != std::string::npos;
    return n;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> done_{false};
  std::thread reader_;
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE("systemd: conduit work says ready - reloading - stopping - and feeds the watchdog") {
  RedisServer redis;
  const std::string dir = redis.directory();
  std::ofstream(dir + "/app.env") << "redis_url=" << redis.url()
                                  << "\nbind=127.0.0.1\nplugin_dir=" << CONDUIT_TEST_PLUGIN_DIR
                                  << "\nscripted_log=" << dir << "/calls.log\n";
  std::filesystem::create_directories(dir + "/statemachines");
  std::filesystem::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/statemachines/jira.hcl",
                             dir + "/statemachines/jira.hcl");
  std::ofstream(dir + "/workers.yaml")
      << "workers:\n  first:\n    plugin: scripted\n    statefile: jira.hcl\n"
      << "    projects: [soc]\n";
  NotifySocket systemd(dir + "/notify.sock");

  Process worker(
      {CONDUIT_BINARY, "work", "--config", dir + "/app.env", "--hcl-dir", dir + "/statemachines",
       "--worker-cfg", dir + "/workers.yaml", "-p", std::to_string(freeLoopbackPort())},
      {{"NOTIFY_SOCKET", dir + "/notify.sock"}, {"WATCHDOG_USEC", "200000"}});
  REQUIRE(eventually([&] { return systemd.count("READY=1") == 1; }));
  CHECK(systemd.count("STATUS=processing deliveries as ") == 1);
  REQUIRE(eventually([&] { return systemd.count("WATCHDOG=1") >= 3; }));

  worker.signal(SIGHUP);
  REQUIRE(eventually([&] { return systemd.count("READY=1") == 2; }));
  CHECK(systemd.count("RELOADING=1") == 1);

  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  CHECK(systemd.count("STOPPING=1") == 1);
}

namespace {

// A folder with app.env, the state machines and a workers.yaml of one scripted worker.
void writeWorkerConfig(const RedisServer& redis, const std::string& dir) {
  std::ofstream(dir + "/app.env") << "redis_url=" << redis.url()
                                  << "\nbind=127.0.0.1\nplugin_dir=" << CONDUIT_TEST_PLUGIN_DIR
                                  << "\nscripted_log=" << dir << "/calls.log\n";
  std::filesystem::create_directories(dir + "/statemachines");
  std::filesystem::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/statemachines/jira.hcl",
                             dir + "/statemachines/jira.hcl",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir + "/workers.yaml")
      << "workers:\n  first:\n    plugin: scripted\n    statefile: jira.hcl\n"
      << "    projects: [soc]\n";
}

}  // namespace

// The watchdog's thread asks the worker whether it is healthy every half of WATCHDOG_USEC: with
// a millisecond, it asks while the stop takes the worker apart, and must not ask a worker gone.
TEST_CASE("systemd: SIGTERM with a 1 ms watchdog exits 0 every time - work, run and serve") {
  RedisServer redis;
  const std::string dir = redis.directory();
  writeWorkerConfig(redis, dir);
  NotifySocket systemd(dir + "/notify.sock");
  const std::map<std::string, std::optional<std::string>> env = {
      {"NOTIFY_SOCKET", dir + "/notify.sock"}, {"WATCHDOG_USEC", "1000"}};

  int ready = 0;
  for (const std::string command : {"work", "run", "serve"}) {
    for (int i = 0; i < 12; ++i) {
      CAPTURE(command);
      CAPTURE(i);
      // `run` has no -p: its port is the API's, which CONDUIT_PORT sets.
      const std::string port = std::to_string(freeLoopbackPort());
      std::vector<std::string> argv = {CONDUIT_BINARY, command, "--config", dir + "/app.env"};
      if (command != "run") argv.insert(argv.end(), {"-p", port});
      if (command != "serve") {
        argv.insert(argv.end(),
                    {"--hcl-dir", dir + "/statemachines", "--worker-cfg", dir + "/workers.yaml"});
      }
      auto with_port = env;
      with_port["CONDUIT_PORT"] = port;
      Process process(argv, with_port);
      ++ready;
      REQUIRE(eventually([&] { return systemd.count("READY=1") == ready; }));
      // Stop at different moments of the watchdog's half-millisecond round.
      std::this_thread::sleep_for(std::chrono::microseconds(300 * i));
      process.signal(SIGTERM);
      const int status = process.wait();
      CHECK(status == 0);
      if (status != 0) MESSAGE(process.standardError());
    }
  }
  CHECK(systemd.count("STOPPING=1") == ready);
}

TEST_CASE("systemd: outside a notify unit nothing is sent - and nothing breaks") {
  RedisServer redis;
  const std::string dir = redis.directory();
  std::ofstream(dir + "/app.env") << "redis_url=" << redis.url() << "\nbind=127.0.0.1\n";
  const int port = freeLoopbackPort();
  Process serve({CONDUIT_BINARY, "serve", "--config", dir + "/app.env", "-p", std::to_string(port)},
                {{"NOTIFY_SOCKET", std::nullopt}, {"WATCHDOG_USEC", std::nullopt}});
  REQUIRE(
      eventually([&] { return serve.standardError().find("listening on") != std::string::npos; }));
  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);
}
