// The spool as an operator meets it: the real `conduit serve` and `conduit work` binaries, a
// real redis-server that stops taking deliveries, the real jira.so and the Jira simulator.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <doctest/doctest.h>
#include <httplib.h>

#include "jira_simulator.hpp"
#include "process.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"
#include "spool/spool_record.hpp"

using conduit::jira_simulator::JiraSimulator;
using conduit::jira_simulator::SimulatorOptions;
using conduit::queue::QueueNames;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::RedisServer;

namespace {

namespace fs = std::filesystem;

// Redis, the simulator, a spool folder, and `conduit serve` on the original's app.env with
// spool_dir set; `conduit work` (the shipped workers.yaml: jira.so for soc and devhop) when
// asked.
class SpoolSite {
 public:
  explicit SpoolSite(std::map<std::string, std::optional<std::string>> settings = {})
      : jira_(SimulatorOptions{}), settings_(std::move(settings)) {
    jira_.start();
    fs::copy(std::string(CONDUIT_CONFIG_DIR) + "/statemachines", dir_ + "/statemachines");
    fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/workers.yaml", dir_ + "/workers.yaml");
    startServer();
    registerHook();
  }
  ~SpoolSite() {
    stopServer(SIGTERM);
    if (worker_) {
      worker_->signal(SIGTERM);
      worker_->wait();
    }
  }

  std::map<std::string, std::optional<std::string>> environment() const {
    std::map<std::string, std::optional<std::string>> environment{
        {"ELASTIC_REDIS_URL", redis_.url()},
        {"ATLASSIAN_EMAIL", "dev@example.test"},
        {"ATLASSIAN_API_KEY", "simulator-token"},
        {"CONDUIT_ATLASSIAN_DOMAIN_URL", jira_.url()},
        {"CONDUIT_PORT", std::to_string(port_)},
        {"CONDUIT_BIND", "127.0.0.1"},
        {"CONDUIT_REDIS_TIMEOUT_MS", "500"},
        {"CONDUIT_SPOOL_DIR", spoolDir()},
        {"CONDUIT_WORKER_PORT", std::to_string(worker_port_)},
        {"CONDUIT_RETRY_INITIAL_MS", "50"},
        {"CONDUIT_RETRY_MAX_MS", "2000"},
        {"CONDUIT_CLAIM_IDLE_MS", "1000"}};
    for (const auto& [name, value] : settings_)
      environment[name] = value;
    return environment;
  }

  std::vector<std::string> command(const std::string& name) const {
    std::vector<std::string> argv = {CONDUIT_BINARY, name, "--config",
                                     CONDUIT_TEST_DATA_DIR "/original-app.env"};
    if (name == "serve") return argv;  // it reads no state machine and no workers.yaml
    argv.insert(argv.end(), {"--hcl-dir", hcl(), "--worker-cfg", dir_ + "/workers.yaml"});
    return argv;
  }

  void startServer() {
    server_ = std::make_unique<Process>(command("serve"), environment());
    const bool up = eventually([&] {
      httplib::Client client("127.0.0.1", port_);
      auto pong = client.Get("/conduit/ping");
      return pong && pong->status == 200;
    });
    INFO(server_->standardError());
    REQUIRE(up);
  }
  // Stops `conduit serve` with `signal_number` and returns its log.
  std::string stopServer(int signal_number) {
    if (!server_) return "";
    server_->signal(signal_number);
    server_->wait();
    std::string log = server_->standardError();
    server_.reset();
    return log;
  }
  std::string serverLog() const { return server_ ? server_->standardError() : ""; }

  void startWorker() {
    worker_ = std::make_unique<Process>(command("work"), environment());
    const bool up = eventually([&] {
      httplib::Client client("127.0.0.1", worker_port_);
      auto pong = client.Get("/conduit-reactor/ping");
      return pong && pong->status == 200;
    });
    INFO(worker_->standardError());
    REQUIRE(up);
  }

  // A merged pull request naming `issue`, signed as GitHub signs it, padded to `bytes`.
  httplib::Result merged(const std::string& delivery_id, const std::string& issue,
                         size_t bytes = 0) {
    std::string body =
        R"({"action":"closed","pull_request":{"title":")" + issue +
        R"(: fix","body":"","merged":true,"html_url":"https://github.com/acme/app/pull/1",)"
        R"("head":{"ref":"main"},"merged_by":{"login":"alice"}},"padding":")";
    body += std::string(bytes > body.size() + 3 ? bytes - body.size() - 3 : 0, 'x') + "\"}";
    httplib::Client client("127.0.0.1", port_);
    return client.Post("/conduit/webhooks/github/app/payload",
                       {{"X-GitHub-Event", "pull_request"},
                        {"X-GitHub-Delivery", delivery_id},
                        {"X-Hub-Signature-256", conduit::testing::githubSignature(secret_, body)}},
                       body, "application/json");
  }

  httplib::Result ready() const {
    httplib::Client client("127.0.0.1", port_);
    return client.Get("/conduit/ready");
  }
  std::string metrics() const {
    httplib::Client client("127.0.0.1", port_);
    auto response = client.Get("/metrics");
    return response ? response->body : "";
  }

  // Redis refuses writes, as a replica does after a failover, while it still answers reads
  // (the hook's secret; a stopped Redis needs the in-memory registry for that).
  void refuseWrites() {
    redis().command({"REPLICAOF", "127.0.0.1", std::to_string(freeLoopbackPort())});
  }
  void acceptWrites() { redis().command({"REPLICAOF", "NO", "ONE"}); }

  // The delivery ids of the stream's entries, in order.
  std::vector<std::string> streamIds() {
    std::vector<std::string> ids;
    for (const auto& entry : redis().command({"XRANGE", QueueNames::kStream, "-", "+"}).elements)
      ids.push_back(conduit::testing::streamEntryFields(entry)["delivery"]);
    return ids;
  }
  bool settled() { return redis().command({"XLEN", QueueNames::kStream}).integer == 0; }

  conduit::store::RedisConnection& redis() {
    if (!direct_) {
      direct_ = std::make_unique<conduit::store::RedisConnection>(redis_.endpoint(),
                                                                  std::chrono::seconds(2));
    }
    return *direct_;
  }
  void dropConnection() { direct_.reset(); }
  RedisServer& redisServer() { return redis_; }
  JiraSimulator& jira() { return jira_; }
  std::string spoolDir() const { return dir_ + "/spool"; }
  int port() const { return port_; }

  // The spool's files, oldest first.
  std::vector<std::string> spoolFiles() const {
    std::vector<std::string> files;
    if (!fs::exists(spoolDir())) return files;
    for (const auto& entry : fs::directory_iterator(spoolDir())) {
      if (entry.path().extension() == ".log") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

 private:
  std::string hcl() const { return dir_ + "/statemachines"; }

  void registerHook() {
    httplib::Client client("127.0.0.1", port_);
    auto response = client.Post("/conduit/webhooks/register",
                                R"({"provider":"github","repo_path":"acme/app","repo_id":"app"})",
                                "application/json");
    REQUIRE(response);
    REQUIRE(response->status == 201);
    secret_ = conduit::testing::jsonString(response->body, "/data/secret");
  }

  RedisServer redis_;
  std::string dir_ = redis_.directory();
  JiraSimulator jira_;
  std::map<std::string, std::optional<std::string>> settings_;
  int port_ = freeLoopbackPort();
  int worker_port_ = freeLoopbackPort();
  std::unique_ptr<Process> server_;
  std::unique_ptr<Process> worker_;
  std::unique_ptr<conduit::store::RedisConnection> direct_;
  std::string secret_;
};

std::string issue(int i) {
  return "SOC-" + std::to_string(i);
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE(
    "spool: Redis refusing writes - 100 deliveries spooled - kill -9 - restart - Redis back: "
    "each in the stream once, and the Jira issues move") {
  SpoolSite site;
  REQUIRE(site.merged("before", issue(1000))->status == 202);  // queued before the failover
  site.refuseWrites();

  for (int i = 1; i <= 100; ++i) {
    auto response = site.merged("d-" + std::to_string(i), issue(i));
    REQUIRE(response);
    REQUIRE(response->status == 202);
    CHECK(response->body == R"({"success":true,"data":{"delivery":"d-)" + std::to_string(i) +
                                R"(","duplicate":false,"spooled":true}})");
  }
  // The code host sending one again (its own retry, or a person's "Redeliver"): spooled again,
  // queued once. One Redis already has is a duplicate: a read-only Redis can say so.
  CHECK(site.merged("d-7", issue(7))->status == 202);
  auto before = site.merged("before", issue(1000));
  REQUIRE(before);
  CHECK(before->status == 200);
  CHECK(before->body.find(R"("duplicate":true)") != std::string::npos);

  auto ready = site.ready();
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body == "spooling");
  INFO(site.serverLog());
  const std::string metrics = site.metrics();
  CHECK(metrics.find("conduit_spool_records 101\n") != std::string::npos);
  CHECK(metrics.find("conduit_spool_bytes 0\n") == std::string::npos);
  CHECK(site.serverLog().find("Redis cannot take deliveries") != std::string::npos);

  // Killed with everything still in the spool; started again while Redis still refuses.
  const std::string killed_log = site.stopServer(SIGKILL);
  CHECK(count(killed_log, "spooling them to") == 1);
  site.startServer();
  CHECK(eventually([&] {
    auto again = site.ready();
    return again && again->status == 200 && again->body == "spooling";
  }));
  CHECK(site.serverLog().find("holds 101 deliveries") != std::string::npos);

  site.acceptWrites();
  REQUIRE(eventually([&] { return site.spoolFiles().empty(); }, std::chrono::seconds(30)));
  REQUIRE(eventually([&] {
    return site.serverLog().find(
               "drained: 101 spooled deliveries moved into the stream, 1 of "
               "them dropped there as duplicates") != std::string::npos;
  }));
  // Every delivery in the stream exactly once, in the order they were spooled.
  std::vector<std::string> expected = {"before"};
  for (int i = 1; i <= 100; ++i)
    expected.push_back("d-" + std::to_string(i));
  CHECK(site.streamIds() == expected);
  CHECK(site.ready()->body == "ready");
  CHECK(site.metrics().find("conduit_spool_records 0\n") != std::string::npos);

  // And the worker moves each issue once.
  site.startWorker();
  REQUIRE(eventually([&] { return site.settled(); }, std::chrono::seconds(60)));
  for (int i = 1; i <= 100; ++i) {
    CAPTURE(i);
    CHECK(site.jira().transitionsApplied(issue(i)) == 1);
    CHECK(site.jira().status(issue(i)) == "In Progress");
  }
  CHECK(site.jira().transitionsApplied(issue(1000)) == 1);
}

TEST_CASE("spool: Redis stopped mid-drain and started again - each delivery in the stream once") {
  SpoolSite site;
  site.refuseWrites();
  std::vector<std::string> expected;
  for (int i = 1; i <= 400; ++i) {
    expected.push_back("m-" + std::to_string(i));
    REQUIRE(site.merged(expected.back(), issue(i))->status == 202);
  }
  site.acceptWrites();
  // Some in the stream, not all: Redis goes away under the drainer.
  REQUIRE(eventually(
      [&] {
        return site.redis().command({"XLEN", QueueNames::kStream}).integer > 0;
      },
      std::chrono::seconds(30)));
  site.dropConnection();
  site.redisServer().stop();
  site.redisServer().start();
  REQUIRE(eventually([&] { return site.spoolFiles().empty(); }, std::chrono::seconds(60)));
  CHECK(site.streamIds() == expected);
  // Each counted once, those whose answer Redis's stop cut off as duplicates.
  CHECK(eventually([&] {
    return site.serverLog().find("drained: 400 spooled deliveries moved into the stream") !=
           std::string::npos;
  }));
}

TEST_CASE("spool: a full spool answers 503 redis_unavailable - and readiness says so") {
  SpoolSite site(
      std::map<std::string, std::optional<std::string>>{{"CONDUIT_SPOOL_MAX_BYTES", "65536"}});
  site.refuseWrites();
  int spooled = 0;
  for (; spooled < 20; ++spooled) {
    auto response = site.merged("full-" + std::to_string(spooled), issue(spooled + 1), 10000);
    REQUIRE(response);
    if (response->status != 202) {
      CHECK(response->status == 503);
      CHECK(response->body.find("redis_unavailable") != std::string::npos);
      break;
    }
  }
  CHECK(spooled == 6);  // 6 records of about 10 KB fit in 64 KiB; the 7th does not
  REQUIRE(eventually([&] { return site.ready()->status == 503; }));
  CHECK(site.serverLog().find("spool " + site.spoolDir() + " is full") != std::string::npos);

  site.acceptWrites();
  REQUIRE(eventually([&] { return site.spoolFiles().empty(); }, std::chrono::seconds(30)));
  CHECK(site.merged("full-6", issue(7), 10000)->status == 202);
  CHECK(site.streamIds().size() == 7);
  CHECK(eventually([&] { return site.ready()->body == "ready"; }));
}

TEST_CASE("spool: a second server on the same spool_dir exits 2 - naming the folder and pid") {
  SpoolSite site;
  auto environment = site.environment();
  environment["CONDUIT_PORT"] = std::to_string(freeLoopbackPort());
  Process second(site.command("serve"), environment);
  CHECK(second.wait() == 2);
  CHECK(second.standardError().find("spool_dir " + site.spoolDir() +
                                    " is in use by another conduit process (pid ") !=
        std::string::npos);
  CHECK(site.ready()->status == 200);  // the first one is untouched

  // And one whose spool_dir cannot be made.
  environment["CONDUIT_SPOOL_DIR"] = "/proc/conduit-spool";
  Process unwritable(site.command("serve"), environment);
  CHECK(unwritable.wait() == 2);
  CHECK(unwritable.standardError().find("spool_dir /proc/conduit-spool: cannot create it") !=
        std::string::npos);
}

TEST_CASE("spool: a record torn by kill -9 mid-write is set aside - the records before it drain") {
  SpoolSite site;
  site.refuseWrites();
  for (int i = 1; i <= 5; ++i)
    REQUIRE(site.merged("t-" + std::to_string(i), issue(i))->status == 202);
  site.stopServer(SIGKILL);

  // What a power cut in the middle of the fifth record's write leaves. (The drainer's first try
  // closes the file being written: the records may be in two files; the fifth is the last one's
  // last, and every record has the same size.)
  const auto files = site.spoolFiles();
  REQUIRE_FALSE(files.empty());
  uint64_t total = 0;
  for (const auto& file : files)
    total += fs::file_size(file);
  const uint64_t record = total / 5;
  const std::string last = files.back();
  const uint64_t torn_at = fs::file_size(last) - record;
  fs::resize_file(last, torn_at + record / 2);

  site.startServer();
  site.acceptWrites();
  REQUIRE(eventually([&] { return site.spoolFiles().empty(); }, std::chrono::seconds(30)));
  CHECK(site.streamIds() == std::vector<std::string>{"t-1", "t-2", "t-3", "t-4"});
  REQUIRE(eventually([&] {
    return site.serverLog().find("at byte offset " + std::to_string(torn_at) + " of " + last +
                                 " cannot be read (torn record") != std::string::npos;
  }));
  const std::string aside = site.spoolDir() + "/corrupt/" + fs::path(last).filename().string() +
                            "." + std::to_string(torn_at);
  CHECK(fs::file_size(aside) == record / 2);
}

// With Redis stopped, only a hook held in memory (issue 14, section 2) can be checked.
TEST_CASE(
    "spool: Redis stopped - 100 deliveries spooled - kill -9 - restart - Redis started: "
    "each in the stream once, and the Jira issues move") {
  SpoolSite site;
  // Through this server once, so that its memory holds the hook before Redis goes.
  REQUIRE(site.merged("warm", issue(999))->status == 202);
  site.dropConnection();
  site.redisServer().stop();
  for (int i = 1; i <= 100; ++i) {
    auto response = site.merged("s-" + std::to_string(i), issue(i));
    REQUIRE(response);
    REQUIRE(response->status == 202);
    CHECK(response->body.find(R"("spooled":true)") != std::string::npos);
  }
  CHECK(site.ready()->body == "spooling");
  site.stopServer(SIGKILL);
  site.startServer();
  site.redisServer().start();
  REQUIRE(eventually([&] { return site.spoolFiles().empty(); }, std::chrono::seconds(30)));
  std::vector<std::string> expected = {"warm"};
  for (int i = 1; i <= 100; ++i)
    expected.push_back("s-" + std::to_string(i));
  CHECK(site.streamIds() == expected);
  site.startWorker();
  REQUIRE(eventually([&] { return site.settled(); }, std::chrono::seconds(60)));
  for (int i = 1; i <= 100; ++i)
    CHECK(site.jira().transitionsApplied(issue(i)) == 1);
}

TEST_CASE("spool: with Redis hanging, only one delivery a second waits for it - the rest spool") {
  SpoolSite site;  // redis_timeout_ms 500
  REQUIRE(site.merged("warm", issue(999))->status == 202);
  site.redisServer().pause();
  const auto started = std::chrono::steady_clock::now();
  for (int i = 1; i <= 20; ++i) {
    auto response = site.merged("h-" + std::to_string(i), issue(i));
    REQUIRE(response);
    REQUIRE(response->status == 202);
    CHECK(response->body.find(R"("spooled":true)") != std::string::npos);
  }
  // Each waiting out the timeout would take 10 s at least.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(6));
  site.redisServer().resume();
  REQUIRE(eventually([&] { return site.spoolFiles().empty(); }, std::chrono::seconds(30)));
  std::vector<std::string> expected = {"warm"};
  for (int i = 1; i <= 20; ++i)
    expected.push_back("h-" + std::to_string(i));
  CHECK(site.streamIds() == expected);
}
