// The delivery log as `conduit work` writes it: the real binary, a real redis-server, real
// plugins (tests/plugins/scripted.cpp, told what to answer by the pull request's title and what
// to report by its body), and the records read back through queue::DeliveryLog.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <doctest/doctest.h>

#include "process.hpp"
#include "queue/delivery_log.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"

using conduit::queue::DeliveryKey;
using conduit::queue::DeliveryLog;
using conduit::queue::DeliveryRecord;
using conduit::queue::DeliveryStatus;
using conduit::queue::WorkerRecord;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::RedisServer;

namespace {

namespace fs = std::filesystem;

const std::string kConduit = CONDUIT_BINARY;

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Redis, an app.env and a workers.yaml of scripted workers, and the delivery log to read.
class LogSite {
 public:
  explicit LogSite(const std::vector<std::string>& workers,
                   const std::map<std::string, std::string>& settings = {}) {
    std::map<std::string, std::string> config = {{"redis_url", redis_.url()},
                                                 {"bind", "127.0.0.1"},
                                                 {"plugin_dir", CONDUIT_TEST_PLUGIN_DIR},
                                                 {"scripted_log", dir_ + "/calls.log"},
                                                 {"retry_initial_ms", "50"},
                                                 {"retry_max_ms", "200"},
                                                 {"retry_max_attempts", "3"},
                                                 {"claim_idle_ms", "1000"},
                                                 {"shutdown_timeout_ms", "10000"}};
    for (const auto& [key, value] : settings)
      config[key] = value;
    std::ofstream env(config_path_);
    for (const auto& [key, value] : config)
      env << key << "=" << value << "\n";
    fs::create_directories(hcl_dir_);
    fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/statemachines/jira.hcl",
                  hcl_dir_ + "/jira.hcl");
    std::ofstream yaml(workers_path_);
    yaml << "workers:\n";
    for (const auto& worker : workers) {
      yaml << "  " << worker
           << ":\n    plugin: scripted\n    statefile: jira.hcl\n    projects: [soc]\n";
    }
  }

  std::vector<std::string> command() const {
    return {kConduit, "work",         "--config",    config_path_, "--hcl-dir",
            hcl_dir_, "--worker-cfg", workers_path_, "-p",         std::to_string(port_)};
  }

  // Queues a merged pull request as the ingress does (its log record included): the title says
  // what each worker answers, the body what each reports (`report <worker> <json>` lines).
  std::string enqueue(const std::string& delivery_id, const std::string& title,
                      const std::string& body = "", const std::string& action = "closed",
                      bool merged = true) {
    const std::string payload =
        R"({"action":")" + action + R"(","pull_request":{"title":)" + jsonString(title) +
        R"(,"body":)" + jsonString(body) + R"(,"merged":)" + (merged ? "true" : "false") +
        R"(,"html_url":"https://example.test/pr/1","head":{"ref":"main"}}})";
    conduit::queue::Delivery delivery;
    delivery.provider = "github";
    delivery.repo_id = "repo";
    delivery.repo_path = "org/repo";
    delivery.event = "pull_request";
    delivery.delivery_id = delivery_id;
    delivery.received_at_ms = conduit::queue::unixTimeMs();
    delivery.payload = payload;
    return queue_.enqueue(delivery).entry_id;
  }

  std::optional<DeliveryRecord> record(const std::string& delivery_id) {
    return log_.find(DeliveryKey{"github", "repo", delivery_id}, false);
  }
  // Waits for the record to reach `status`; the record as it then is.
  DeliveryRecord await(const std::string& delivery_id, DeliveryStatus status,
                       std::chrono::milliseconds within = std::chrono::seconds(15)) {
    std::optional<DeliveryRecord> found;
    eventually(
        [&] {
          found = record(delivery_id);
          return found && found->status == status;
        },
        within);
    REQUIRE(found.has_value());
    REQUIRE(conduit::queue::statusName(found->status) == conduit::queue::statusName(status));
    return *found;
  }

  long long streamLength() {
    return redis_direct_.command({"XLEN", conduit::queue::QueueNames::kStream}).integer;
  }

  RedisServer& redisServer() { return redis_; }
  DeliveryLog& log() { return log_; }

 private:
  RedisServer redis_;
  std::string dir_ = redis_.directory();
  std::string config_path_ = dir_ + "/app.env";
  std::string hcl_dir_ = dir_ + "/statemachines";
  std::string workers_path_ = dir_ + "/workers.yaml";
  int port_ = freeLoopbackPort();
  conduit::store::RedisPool pool_{redis_.endpoint(), std::chrono::seconds(2)};
  conduit::queue::DeliveryQueue queue_{pool_};
  DeliveryLog log_{pool_, conduit::queue::LogSettings{}};
  conduit::store::RedisConnection redis_direct_{redis_.endpoint(), std::chrono::seconds(2)};
};

const WorkerRecord& workerOf(const DeliveryRecord& record, const std::string& name) {
  for (const auto& worker : record.workers) {
    if (worker.worker == name) return worker;
  }
  FAIL("no worker " << name << " in the record");
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("delivery log: a done delivery - each worker's outcome - actions - issues") {
  LogSite site({"first", "second"});
  Process worker(site.command());
  site.enqueue("d-done", "first=ok second=ok",
               "report first {\"action\":\"moved\",\"issue\":\"SOC-1\",\"from\":\"To Do\","
               "\"to\":\"In Progress\",\"transition\":\"Start work\"}\n"
               "report first {\"action\":\"commented\",\"issue\":\"soc-1\"}\n"
               "report first {\"action\":\"end\",\"issue\":\"SOC-7\",\"status\":\"Done\"}");
  const auto record = site.await("d-done", DeliveryStatus::kDone);
  CHECK(record.kind == "pull_request.merged");
  CHECK(record.attempts == 1);
  CHECK(record.reason.empty());
  CHECK(record.issues == std::vector<std::string>{"SOC-1", "SOC-7"});
  REQUIRE(record.workers.size() == 2);
  const auto& first = workerOf(record, "first");
  CHECK(first.outcome == "ok");
  REQUIRE(first.attempts.size() == 1);
  CHECK(first.attempts[0].outcome == "ok");
  CHECK(first.attempts[0].at_ms > 0);
  REQUIRE(first.actions.size() == 3);
  CHECK(first.actions[0] ==
        R"({"action":"moved","issue":"SOC-1","from":"To Do","to":"In Progress",)"
        R"("transition":"Start work"})");
  // A worker that reports nothing (an ABI 1.1 plugin, say) did its work: done.
  const auto& second = workerOf(record, "second");
  CHECK(second.outcome == "ok");
  CHECK(second.actions.empty());
}

TEST_CASE("delivery log: a retry shows retrying with the next attempt's time - then done") {
  LogSite site({"first"}, {{"retry_initial_ms", "3000"}, {"retry_max_ms", "3000"}});
  Process worker(site.command());
  const int64_t before = conduit::queue::unixTimeMs();
  site.enqueue("d-retry", "first=retry-once",
               "report first {\"action\":\"moved\",\"issue\":\"SOC-2\"}");
  const auto retrying = site.await("d-retry", DeliveryStatus::kRetrying);
  CHECK(retrying.attempts == 1);
  CHECK(retrying.reason == "first: asked to retry once");
  // The exponential backoff's first delay: 1.5 to 3 s (jittered down by up to half).
  CHECK(retrying.next_attempt_ms >= before + 1400);
  CHECK(retrying.next_attempt_ms <= conduit::queue::unixTimeMs() + 4000);
  CHECK(workerOf(retrying, "first").outcome == "retry");
  CHECK(workerOf(retrying, "first").message == "asked to retry once");
  CHECK(workerOf(retrying, "first").actions.size() == 1);

  const auto done = site.await("d-retry", DeliveryStatus::kDone);
  CHECK(done.attempts == 2);
  const auto& first = workerOf(done, "first");
  CHECK(first.outcome == "ok");
  REQUIRE(first.attempts.size() == 2);
  CHECK(first.attempts[0].outcome == "retry");
  CHECK(first.attempts[0].message == "asked to retry once");
  CHECK(first.attempts[1].outcome == "ok");
  CHECK(done.issues == std::vector<std::string>{"SOC-2"});
}

TEST_CASE("delivery log: a dead delivery is dead - with each failed worker's error") {
  LogSite site({"first", "second"});
  Process worker(site.command());
  site.enqueue("d-dead", "first=fail second=ok");
  const auto record = site.await("d-dead", DeliveryStatus::kDead);
  CHECK(record.attempts == 1);
  CHECK(record.reason == "first: told to fail");
  CHECK(workerOf(record, "first").outcome == "failed");
  CHECK(workerOf(record, "first").message == "told to fail");
  CHECK(workerOf(record, "second").outcome == "ok");

  site.enqueue("d-exhausted", "first=retry-always");
  const auto exhausted = site.await("d-exhausted", DeliveryStatus::kDead);
  CHECK(exhausted.attempts == 3);
  CHECK(exhausted.reason == "first: gave up after 3 attempts: never ready");
  const auto& gave_up = workerOf(exhausted, "first");
  CHECK(gave_up.outcome == "failed");
  CHECK(gave_up.message == "gave up after 3 attempts: never ready");
  REQUIRE(gave_up.attempts.size() == 3);
  CHECK(gave_up.attempts[2].outcome == "retry");  // what the plugin answered
  CHECK(gave_up.attempts[2].message == "never ready");
}

TEST_CASE("delivery log: every worker ignored it - ignored with their reasons") {
  LogSite site({"first", "second"});
  Process worker(site.command());
  site.enqueue("d-ignored", "",
               "report first {\"action\":\"ignored\",\"reason\":\"pull request closed without "
               "merge\"}\n"
               "report second {\"action\":\"ignored\",\"reason\":\"no issue keys of projects "
               "soc\"}");
  const auto record = site.await("d-ignored", DeliveryStatus::kIgnored);
  CHECK(record.reason ==
        "first: pull request closed without merge; second: no issue keys of projects soc");
  CHECK(record.issues.empty());

  // One worker that did something (or reported nothing) makes it done.
  site.enqueue("d-partly", "", "report first {\"action\":\"ignored\",\"reason\":\"not for me\"}");
  CHECK(site.await("d-partly", DeliveryStatus::kDone).reason.empty());
}

TEST_CASE("delivery log: an attempt cut short by a crash - the record says how it ended") {
  LogSite site({"first"}, {{"retry_max_attempts", "1"}});
  site.enqueue("d-crash", "first=crash");
  {
    Process worker(site.command());
    REQUIRE(eventually([&] { return !worker.running(); }));
  }
  // The record says processing: the attempt started and never ended.
  auto started = site.record("d-crash");
  REQUIRE(started.has_value());
  CHECK(started->status == DeliveryStatus::kProcessing);
  CHECK(started->attempts == 1);

  Process again(site.command());
  const auto record = site.await("d-crash", DeliveryStatus::kDead);
  CHECK(record.attempts == 1);
  const auto& first = workerOf(record, "first");
  CHECK(first.outcome == "failed");
  CHECK(first.message.find("gave up after 1 attempts: attempt 1 was cut short") == 0);
  CHECK(record.reason.find("first: gave up after 1 attempts: attempt 1 was cut short") == 0);
}

TEST_CASE("delivery log: a payload that does not normalize - kind empty - dead") {
  LogSite site({"first"});
  Process worker(site.command());
  conduit::store::RedisPool pool(site.redisServer().endpoint(), std::chrono::seconds(2));
  conduit::queue::DeliveryQueue queue(pool);
  conduit::queue::Delivery delivery;
  delivery.provider = "github";
  delivery.repo_id = "repo";
  delivery.repo_path = "org/repo";
  delivery.event = "pull_request";
  delivery.delivery_id = "d-bad";
  delivery.received_at_ms = conduit::queue::unixTimeMs();
  delivery.payload = "[]";
  queue.enqueue(delivery);
  const auto record = site.await("d-bad", DeliveryStatus::kDead);
  CHECK(record.kind.empty());
  CHECK(workerOf(record, "first").outcome == "failed");
}

TEST_CASE("delivery log: a log write that fails never holds a delivery back - it is warned of") {
  LogSite site({"first"});
  // Queued before the worker starts; then its record is made unwritable (a string where the
  // hash was): every write to it fails, as a broken log would.
  site.enqueue("d-unwritable", "first=ok");
  conduit::store::RedisConnection redis(site.redisServer().endpoint(), std::chrono::seconds(2));
  redis.command({"DEL", "conduit::log::github::repo::d-unwritable"});
  redis.command({"SET", "conduit::log::github::repo::d-unwritable", "not a hash"});
  // And one whose record is gone (trimmed, expired): it is not made again.
  site.enqueue("d-gone", "first=ok");
  redis.command({"DEL", "conduit::log::github::repo::d-gone"});

  Process worker(site.command());
  REQUIRE(eventually([&] { return site.streamLength() == 0; }));
  CHECK(redis.command({"GET", "conduit::log::github::repo::d-unwritable"}).text == "not a hash");
  CHECK(redis.command({"EXISTS", "conduit::log::github::repo::d-gone"}).integer == 0);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  CHECK(worker.standardError().find("delivery log not updated") != std::string::npos);
}
