// The whole flow as a user meets it: a signed GitHub delivery to `conduit run` (the real binary,
// with the original's configuration files), through Redis and the real jira.so, to the Jira
// simulator, whose transition names differ from its status names.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <httplib.h>

#include "jira_simulator.hpp"
#include "process.hpp"
#include "queue/delivery_consumer.hpp"
#include "queue/delivery_log.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"

using conduit::jira_simulator::JiraSimulator;
using conduit::jira_simulator::SimulatorOptions;
using conduit::queue::DeliveryConsumer;
using conduit::queue::QueueNames;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::RedisServer;

namespace {

namespace fs = std::filesystem;

// Redis, the simulator, and `conduit run` on the original's app.env (its env:// variables set),
// the shipped jira.hcl and the original's workers.yaml (worker `atlassian`: devhop and soc).
class Flow {
 public:
  // `settings`: more CONDUIT_* variables for every conduit process, or other values.
  // `worker_lines`: more keys for the worker `atlassian`, as workers.yaml lines.
  explicit Flow(SimulatorOptions simulator = {},
                std::map<std::string, std::optional<std::string>> settings = {},
                const std::string& worker_lines = "")
      : jira_(std::move(simulator)), settings_(std::move(settings)) {
    jira_.start();
    fs::copy(std::string(CONDUIT_CONFIG_DIR) + "/statemachines", dir_ + "/statemachines");
    fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/workers.yaml", dir_ + "/workers.yaml");
    std::ofstream(dir_ + "/workers.yaml", std::ios::app) << worker_lines;
    start();
    registerHook();
  }
  ~Flow() { stop(); }

  void start() {
    conduit_ = std::make_unique<Process>(
        std::vector<std::string>{CONDUIT_BINARY, "run", "--config",
                                 CONDUIT_TEST_DATA_DIR "/original-app.env", "--hcl-dir",
                                 dir_ + "/statemachines", "--worker-cfg", dir_ + "/workers.yaml"},
        environment());
    REQUIRE(eventually([&] {
      httplib::Client client("127.0.0.1", port_);
      auto pong = client.Get("/conduit-reactor/ping");
      return pong && pong->status == 200;
    }));
  }

  // Another worker process (`conduit work`) on the same Redis and Jira: another consumer.
  void startWorker() {
    const int port = freeLoopbackPort();
    auto environment = this->environment();
    environment["CONDUIT_WORKER_PORT"] = std::to_string(port);
    workers_.push_back(std::make_unique<Process>(
        std::vector<std::string>{CONDUIT_BINARY, "work", "--config",
                                 CONDUIT_TEST_DATA_DIR "/original-app.env", "--hcl-dir",
                                 dir_ + "/statemachines", "--worker-cfg", dir_ + "/workers.yaml"},
        environment));
    REQUIRE(eventually([&] {
      httplib::Client client("127.0.0.1", port);
      auto pong = client.Get("/conduit-reactor/ping");
      return pong && pong->status == 200;
    }));
  }

  // Stops `conduit run` (SIGTERM) and returns its log.
  std::string stop(int signal_number = SIGTERM) {
    if (!conduit_) return "";
    conduit_->signal(signal_number);
    conduit_->wait();
    std::string log = conduit_->standardError();
    conduit_.reset();
    return log;
  }

  std::map<std::string, std::optional<std::string>> environment() const {
    std::map<std::string, std::optional<std::string>> environment{
        {"ELASTIC_REDIS_URL", redis_.url()},      {"ATLASSIAN_EMAIL", "dev@example.test"},
        {"ATLASSIAN_API_KEY", "simulator-token"}, {"CONDUIT_ATLASSIAN_DOMAIN_URL", jira_.url()},
        {"CONDUIT_PORT", std::to_string(port_)},  {"CONDUIT_BIND", "127.0.0.1"},
        {"CONDUIT_RETRY_INITIAL_MS", "50"},       {"CONDUIT_RETRY_MAX_MS", "2000"},
        {"CONDUIT_RETRY_MAX_ATTEMPTS", "4"},      {"CONDUIT_CLAIM_IDLE_MS", "1000"}};
    for (const auto& [name, value] : settings_)
      environment[name] = value;
    return environment;
  }

  // POSTs a published release, signed as GitHub signs it; returns the HTTP status.
  int published(const std::string& delivery_id, const std::string& name) {
    const std::string body = R"({"action":"published","release":{"tag_name":"v1.0","name":")" +
                             name +
                             R"(","body":"","html_url":"https://github.com/acme/app/releases/1",)"
                             R"("author":{"login":"bob"}}})";
    return post("release", delivery_id, body);
  }

  // POSTs a merged pull request, signed as GitHub signs it; returns the HTTP status.
  int merged(const std::string& delivery_id, const std::string& title,
             const std::string& branch = "main") {
    const std::string body =
        R"({"action":"closed","pull_request":{"title":")" + title +
        R"(","body":"","merged":true,"html_url":"https://github.com/acme/app/pull/1",)"
        R"("head":{"ref":")" +
        branch + R"("},"merged_by":{"login":"alice"}}})";
    return post("pull_request", delivery_id, body);
  }

  // POSTs a push of commits {id, message}, oldest first, signed as GitHub signs it.
  int pushed(const std::string& delivery_id,
             const std::vector<std::pair<std::string, std::string>>& commits) {
    std::string list;
    for (const auto& [id, message] : commits) {
      list += std::string(list.empty() ? "" : ",") + R"({"id":")" + id + R"(","message":")" +
              message + R"(","url":"https://github.com/acme/app/commit/)" + id +
              R"(","author":{"name":"Alice","username":"alice"}})";
    }
    const std::string body =
        R"({"ref":"refs/heads/main","after":"1111111111111111111111111111111111111111",)"
        R"("compare":"https://github.com/acme/app/compare/a...b","pusher":{"name":"alice"},)"
        R"("commits":[)" +
        list + "]}";
    return post("push", delivery_id, body);
  }

  int post(const std::string& event, const std::string& delivery_id, const std::string& body) {
    httplib::Client client("127.0.0.1", port_);
    auto response =
        client.Post("/conduit/webhooks/github/app/payload",
                    {{"X-GitHub-Event", event},
                     {"X-GitHub-Delivery", delivery_id},
                     {"X-Hub-Signature-256", conduit::testing::githubSignature(secret_, body)}},
                    body, "application/json");
    return response ? response->status : 0;
  }

  // Everything queued was acknowledged.
  bool settled() {
    auto redis = std::make_unique<conduit::store::RedisConnection>(redis_.endpoint(),
                                                                   std::chrono::seconds(2));
    return redis->command({"XLEN", QueueNames::kStream}).integer == 0;
  }

  long long deadLetters() {
    conduit::store::RedisConnection redis(redis_.endpoint(), std::chrono::seconds(2));
    return redis.command({"XLEN", DeliveryConsumer::kDeadLetterStream}).integer;
  }

  JiraSimulator& jira() { return jira_; }

  // The delivery's record in the delivery log, as the admin API and the commands read it.
  std::optional<conduit::queue::DeliveryRecord> record(const std::string& delivery_id) {
    conduit::store::RedisPool pool(redis_.endpoint(), std::chrono::seconds(2));
    conduit::queue::DeliveryLog log(pool, conduit::queue::LogSettings{});
    return log.find({"github", "app", delivery_id}, false);
  }
  // Waits until the delivery's record has left queued, processing and retrying.
  std::optional<conduit::queue::DeliveryRecord> ended(const std::string& delivery_id) {
    std::optional<conduit::queue::DeliveryRecord> found;
    eventually([&] {
      found = record(delivery_id);
      return found && (found->status == conduit::queue::DeliveryStatus::kDone ||
                       found->status == conduit::queue::DeliveryStatus::kDead ||
                       found->status == conduit::queue::DeliveryStatus::kIgnored);
    });
    return found;
  }

 private:
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
  std::unique_ptr<Process> conduit_;
  std::vector<std::unique_ptr<Process>> workers_;
  std::string secret_;
};

}  // namespace

TEST_CASE("jira flow: a merged pull request moves each issue of two projects once") {
  Flow flow;
  CHECK(flow.merged("d-1", "SOC-1 and DEVHOP-7: login", "feature/SOC-2-login") == 202);
  REQUIRE(eventually([&] { return flow.jira().totalTransitionsApplied() == 3; }));
  REQUIRE(eventually([&] { return flow.settled(); }));
  CHECK(flow.jira().status("SOC-1") == "In Progress");
  CHECK(flow.jira().status("SOC-2") == "In Progress");
  CHECK(flow.jira().status("DEVHOP-7") == "In Progress");
  CHECK(flow.jira().status("OTHER-1").empty());  // not a project of the worker: never asked

  // GitHub's redelivery (same delivery id) is a duplicate: nothing moves again.
  CHECK(flow.merged("d-1", "SOC-1 and DEVHOP-7: login", "feature/SOC-2-login") == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(flow.jira().totalTransitionsApplied() == 3);
  const std::string log = flow.stop();
  CHECK(log.find("atlassian (jira): SOC-1 moved from \"To Do\" to \"In Progress\" (transition "
                 "\"Start work\")") != std::string::npos);
}

TEST_CASE("jira flow: <end> moves nothing") {
  Flow flow;
  flow.jira().setStatus("SOC-5", "Done");
  CHECK(flow.merged("d-end", "SOC-5") == 202);
  REQUIRE(eventually([&] { return flow.settled(); }));
  CHECK(flow.jira().status("SOC-5") == "Done");
  CHECK(flow.jira().totalTransitionsApplied() == 0);
  CHECK(flow.deadLetters() == 0);
}

TEST_CASE("jira flow: 429 with a short Retry-After is waited out - no retry spent") {
  Flow flow;
  flow.jira().failNext("GET", "/rest/api/2/issue/SOC-1", 429, 1, 1);
  CHECK(flow.merged("d-429", "SOC-1") == 202);
  REQUIRE(eventually([&] { return flow.settled(); }));
  CHECK(flow.jira().transitionsApplied("SOC-1") == 1);
  const std::string log = flow.stop();
  CHECK(log.find("to be retried") == std::string::npos);
}

TEST_CASE("jira flow: 429 with a long Retry-After - the retry waits for it - then success") {
  Flow flow({}, {{"CONDUIT_RETRY_MAX_MS", "10000"}});  // a cap above the Retry-After
  flow.jira().failNext("GET", "/rest/api/2/issue/SOC-1", 429, 1, 6);
  CHECK(flow.merged("d-429", "SOC-1") == 202);
  REQUIRE(eventually([&] { return flow.settled(); }, std::chrono::seconds(30)));
  CHECK(flow.jira().transitionsApplied("SOC-1") == 1);
  CHECK(flow.deadLetters() == 0);
  const std::string log = flow.stop();
  CHECK(log.find("attempt 1 of 4 to be retried in 6000 ms: atlassian: GET SOC-1: Jira answered "
                 "429") != std::string::npos);
  CHECK(log.find("attempt 2 of 4") == std::string::npos);  // one retry, after the whole wait
}

TEST_CASE("jira flow: 500 - then success") {
  Flow flow;
  flow.jira().failNext("POST", "/rest/api/2/issue/SOC-1/transitions", 500);
  CHECK(flow.merged("d-500", "SOC-1") == 202);
  REQUIRE(eventually([&] { return flow.settled(); }));
  CHECK(flow.jira().transitionsApplied("SOC-1") == 1);
  CHECK(flow.deadLetters() == 0);
}

TEST_CASE("jira flow: refused credentials fail for good - without a retry storm") {
  SimulatorOptions options;
  options.api_token = "a-token-conduit-does-not-have";
  Flow flow(options);
  CHECK(flow.merged("d-401", "SOC-1 SOC-2 SOC-3") == 202);
  REQUIRE(eventually([&] { return flow.settled(); }));
  CHECK(flow.deadLetters() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // One refusal per key under way (the three at once: concurrency 4), then nothing.
  CHECK(flow.jira().requestCount() == 3);
  const std::string log = flow.stop();
  CHECK(log.find("Jira refused the credentials of dev@example.test") != std::string::npos);
  CHECK(log.find("simulator-token") == std::string::npos);
}

TEST_CASE("jira flow: killed mid-event and restarted - each ticket moves exactly once") {
  SimulatorOptions options;
  options.delay = std::chrono::milliseconds(1200);
  Flow flow(options);
  CHECK(flow.merged("d-kill", "SOC-1 SOC-2") == 202);
  // Both issues at once: GET SOC-1 and SOC-2 answered, both POSTs received and being delayed:
  // kill now. The simulator still applies them, but conduit never hears back.
  REQUIRE(eventually([&] { return flow.jira().requestCount() >= 4; }));
  flow.stop(SIGKILL);
  REQUIRE(eventually([&] { return flow.jira().transitionsApplied("SOC-1") == 1; }));

  flow.start();  // same host and port: takes its pending delivery back at once
  // The killed process held SOC-1's lease, which would block the issue until it expires (the
  // deadline, 10 s, and 10 s more): the delivery's next attempt takes it back at once instead.
  REQUIRE(eventually([&] { return flow.settled(); }, std::chrono::seconds(15)));
  CHECK(flow.jira().transitionsApplied("SOC-1") == 1);
  CHECK(flow.jira().transitionsApplied("SOC-2") == 1);
  CHECK(flow.jira().status("SOC-1") == "In Progress");
  CHECK(flow.jira().status("SOC-2") == "In Progress");
}

TEST_CASE(
    "jira flow: a merged pull request and a published release naming one issue in the "
    "same second move it two steps") {
  SimulatorOptions options;
  options.delay = std::chrono::milliseconds(300);  // both are in flight at once
  Flow flow(options);
  CHECK(flow.merged("d-pr", "SOC-7: login") == 202);
  CHECK(flow.published("d-release", "v1.0 with SOC-7") == 202);
  REQUIRE(eventually([&] { return flow.settled(); }, std::chrono::seconds(30)));
  CHECK(flow.jira().status("SOC-7") == "Done");
  CHECK(flow.jira().transitionHistory("SOC-7") == std::vector<std::string>{"Start work", "Finish"});
  CHECK(flow.deadLetters() == 0);
}

TEST_CASE(
    "jira flow: two worker processes - overlapping deliveries - each issue moves once per "
    "delivery in turn") {
  SimulatorOptions options;
  options.delay = std::chrono::milliseconds(50);
  Flow flow(options);
  flow.startWorker();
  // Four issues, each named by two to four deliveries at once: To Do -> In Progress -> Done,
  // and any after those find <end>. Without one delivery at a time per issue, two would read the
  // same status and take the same step.
  for (int i = 0; i < 6; ++i) {
    const std::string keys =
        "SOC-" + std::to_string(i % 4 + 1) + " SOC-" + std::to_string((i + 1) % 4 + 1);
    const std::string id = "d-" + std::to_string(i);
    CHECK((i % 2 == 0 ? flow.merged(id, keys) : flow.published(id, keys)) == 202);
  }
  REQUIRE(eventually([&] { return flow.settled(); }, std::chrono::seconds(60)));
  for (int issue = 1; issue <= 4; ++issue) {
    const std::string key = "SOC-" + std::to_string(issue);
    INFO(key);
    CHECK(flow.jira().status(key) == "Done");
    CHECK(flow.jira().transitionHistory(key) == std::vector<std::string>{"Start work", "Finish"});
  }
  CHECK(flow.deadLetters() == 0);
}

TEST_CASE(
    "jira flow: Jira failing one call in five - every issue moved and commented once per "
    "delivery") {
  SimulatorOptions options;
  options.fault_rate = 0.2;  // 429 with Retry-After, 500, a hang, an answer dropped, in turn
  options.fault_seed = 10;
  options.fault_hang = std::chrono::milliseconds(1500);
  Flow flow(options,
            {{"CONDUIT_ATLASSIAN_TIMEOUT_MS", "1000"},  // a hang is a timeout
             {"CONDUIT_RETRY_MAX_ATTEMPTS", "40"},
             {"CONDUIT_RETRY_MAX_MS", "1000"}},
            "    comment: true\n");
  // Four issues, each named by four deliveries: two move it, the others find <end>.
  for (int i = 0; i < 8; ++i) {
    const std::string keys =
        "SOC-" + std::to_string(i % 4 + 1) + " SOC-" + std::to_string((i + 1) % 4 + 1);
    const std::string id = "chaos-" + std::to_string(i);
    CHECK((i % 2 == 0 ? flow.merged(id, keys) : flow.published(id, keys)) == 202);
  }
  REQUIRE(eventually([&] { return flow.settled(); }, std::chrono::seconds(120)));
  const auto faults = flow.jira().faultCounts();
  CHECK(faults.rate_limited + faults.server_error + faults.timeout + faults.dropped > 0);
  for (int issue = 1; issue <= 4; ++issue) {
    const std::string key = "SOC-" + std::to_string(issue);
    INFO(key);
    CHECK(flow.jira().status(key) == "Done");
    CHECK(flow.jira().transitionHistory(key) == std::vector<std::string>{"Start work", "Finish"});
    // One per moving delivery. Not necessarily in the order of the moves: a comment is posted
    // after its issue's lease is let go, and one retried after a fault may come after the next
    // delivery's.
    auto comments = flow.jira().comments(key);
    std::sort(comments.begin(), comments.end());
    REQUIRE(comments.size() == 2);
    CHECK(comments[0].find("Moved to Done") == 0);
    CHECK(comments[1].find("Moved to In Progress") == 0);
  }
  CHECK(flow.deadLetters() == 0);
}

TEST_CASE("jira flow: the delivery log shows each issue moved - from - to - and what was ignored") {
  Flow flow;
  flow.jira().setStatus("SOC-5", "Done");
  CHECK(flow.merged("d-log", "SOC-1 and SOC-5: login") == 202);
  const auto record = flow.ended("d-log");
  REQUIRE(record.has_value());
  CHECK(conduit::queue::statusName(record->status) == "done");
  CHECK(record->kind == "pull_request.merged");
  CHECK(record->attempts == 1);
  CHECK(record->issues == std::vector<std::string>{"SOC-1", "SOC-5"});
  REQUIRE(record->workers.size() == 1);
  const auto& atlassian = record->workers[0];
  CHECK(atlassian.worker == "atlassian");
  CHECK(atlassian.outcome == "ok");
  // The issues are worked on at once: their actions come in either order.
  auto actions = atlassian.actions;
  std::sort(actions.begin(), actions.end());
  CHECK(actions == std::vector<std::string>{R"({"action":"end","issue":"SOC-5","status":"Done"})",
                                            R"({"action":"moved","issue":"SOC-1","from":"To Do",)"
                                            R"("to":"In Progress","transition":"Start work"})"});

  // A pull request closed without merge: nothing to do, and the log says why.
  const std::string closed =
      R"({"action":"closed","pull_request":{"title":"SOC-1","body":"","merged":false,)"
      R"("html_url":"https://github.com/acme/app/pull/2","head":{"ref":"main"}}})";
  CHECK(flow.post("pull_request", "d-closed", closed) == 202);
  const auto ignored = flow.ended("d-closed");
  REQUIRE(ignored.has_value());
  CHECK(conduit::queue::statusName(ignored->status) == "ignored");
  CHECK(ignored->reason == "atlassian: pull request closed without merge");

  CHECK(flow.merged("d-none", "a typo in the docs") == 202);
  const auto none = flow.ended("d-none");
  REQUIRE(none.has_value());
  CHECK(conduit::queue::statusName(none->status) == "ignored");
  CHECK(none->reason == "atlassian: no issue keys of projects devhop, soc");
  CHECK(flow.jira().transitionsApplied("SOC-1") == 1);
}

TEST_CASE("jira flow: smart commits in a push - a comment, a worklog and a transition, once") {
  Flow flow({}, {}, "    smart_commits: true\n");
  const std::vector<std::pair<std::string, std::string>> commits = {
      {"aaaa1111", "SOC-1 #comment Fixed the login #time 1h 30m"},
      {"bbbb2222", "SOC-1 SOC-2 #start-work"},
      {"cccc3333", "SOC-3 #dnoe"}};
  CHECK(flow.pushed("d-smart", commits) == 202);
  const auto record = flow.ended("d-smart");
  REQUIRE(record.has_value());
  // A push is no trigger: only the smart commits did something, and a typo'd transition is a
  // failed command, not a dead letter.
  CHECK(conduit::queue::statusName(record->status) == "done");
  CHECK(flow.deadLetters() == 0);
  REQUIRE(flow.jira().comments("SOC-1").size() == 1);
  CHECK(flow.jira().comments("SOC-1")[0].find("Fixed the login") == 0);
  CHECK(flow.jira().comments("SOC-1")[0].find(
            "Alice in commit aaaa1111 (https://github.com/acme/app/commit/aaaa1111) on GitHub") !=
        std::string::npos);
  CHECK(flow.jira().worklogCount("SOC-1") == 1);
  CHECK(flow.jira().status("SOC-1") == "In Progress");
  CHECK(flow.jira().status("SOC-2") == "In Progress");
  CHECK(flow.jira().status("SOC-3") == "To Do");
  REQUIRE(record->workers.size() == 1);
  const auto& actions = record->workers[0].actions;
  auto has = [&](const std::string& part) {
    return std::any_of(actions.begin(), actions.end(), [&](const std::string& action) {
      return action.find(part) != std::string::npos;
    });
  };
  CHECK(has(R"({"action":"commented","issue":"SOC-1"})"));
  CHECK(has(R"({"action":"worklog","issue":"SOC-1","seconds":5400})"));
  CHECK(has(R"({"action":"transitioned","issue":"SOC-2","transition":"Start work",)"));
  CHECK(has(R"({"action":"failed","issue":"SOC-3","reason":"SOC-3: #dnoe from \"To Do\": no )"
            R"(transition \"dnoe\" is available)"));

  // GitHub's redelivery of the same delivery is a duplicate; nothing is applied twice.
  CHECK(flow.pushed("d-smart", commits) == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(flow.jira().comments("SOC-1").size() == 1);
  CHECK(flow.jira().worklogCount("SOC-1") == 1);
  CHECK(flow.jira().transitionsApplied("SOC-1") == 1);
  const std::string log = flow.stop();
  CHECK(log.find("smart commit not applied: SOC-3: #dnoe") != std::string::npos);
}

TEST_CASE("jira flow: a commit resent by a later push - its smart commits are not applied again") {
  Flow flow({}, {}, "    smart_commits: true\n");
  CHECK(flow.pushed("d-first", {{"aaaa1111", "SOC-1 #comment once #time 1h #start-work"}}) == 202);
  REQUIRE(flow.ended("d-first").has_value());
  // A rebase onto main resends the commit beside a new one, in a delivery of its own.
  CHECK(flow.pushed("d-rebased", {{"aaaa1111", "SOC-1 #comment once #time 1h #start-work"},
                                  {"bbbb2222", "SOC-1 #comment new"}}) == 202);
  const auto record = flow.ended("d-rebased");
  REQUIRE(record.has_value());
  CHECK(conduit::queue::statusName(record->status) == "done");
  const auto comments = flow.jira().comments("SOC-1");
  REQUIRE(comments.size() == 2);
  CHECK(comments[0].find("once") == 0);
  CHECK(comments[1].find("new") == 0);
  CHECK(flow.jira().worklogCount("SOC-1") == 1);
  CHECK(flow.jira().transitionsApplied("SOC-1") == 1);
  REQUIRE(record->workers.size() == 1);
  const auto& actions = record->workers[0].actions;
  CHECK(std::find(actions.begin(), actions.end(),
                  R"({"action":"skipped","reason":"aaaa1111: its smart commit commands were )"
                  R"x(applied by an earlier delivery (github::app::d-first)"})x") != actions.end());
}
