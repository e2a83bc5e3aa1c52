// Bitbucket Cloud's and Data Center's deliveries through `conduit run` (the real binary, the
// real jira.so) to the Jira simulator: what each event moves, and what it does not.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>

#include "jira_simulator.hpp"
#include "process.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"
#include "store/redis_connection.hpp"

using conduit::jira_simulator::JiraSimulator;
using conduit::queue::QueueNames;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::githubSignature;
using conduit::testing::Process;
using conduit::testing::RedisServer;

namespace {

namespace fs = std::filesystem;

const std::string kSecret = "bitbucket-flow-secret";

// Redis, the simulator, and `conduit run` with the worker `atlassian` (projects devhop and soc)
// triggered by merges, releases and pushes, commenting, and a hook of `provider`.
class BitbucketFlow {
 public:
  BitbucketFlow(const std::string& provider, const std::string& repo_path)
      : provider_(provider), jira_(conduit::jira_simulator::SimulatorOptions{}) {
    jira_.start();
    fs::copy(std::string(CONDUIT_CONFIG_DIR) + "/statemachines", dir_ + "/statemachines");
    fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/workers.yaml", dir_ + "/workers.yaml");
    std::ofstream(dir_ + "/workers.yaml", std::ios::app)
        << "    comment: true\n    triggers:\n      pull_request.merged: next\n"
           "      release.published: next\n      push: next\n";
    conduit_ = std::make_unique<Process>(
        std::vector<std::string>{CONDUIT_BINARY, "run", "--config",
                                 CONDUIT_TEST_DATA_DIR "/original-app.env", "--hcl-dir",
                                 dir_ + "/statemachines", "--worker-cfg", dir_ + "/workers.yaml"},
        std::map<std::string, std::optional<std::string>>{
            {"ELASTIC_REDIS_URL", redis_.url()},
            {"ATLASSIAN_EMAIL", "dev@example.test"},
            {"ATLASSIAN_API_KEY", "simulator-token"},
            {"CONDUIT_ATLASSIAN_DOMAIN_URL", jira_.url()},
            {"CONDUIT_PORT", std::to_string(port_)},
            {"CONDUIT_BIND", "127.0.0.1"},
            {"CONDUIT_RETRY_INITIAL_MS", "50"},
            {"CONDUIT_RETRY_MAX_MS", "2000"},
            {"CONDUIT_RETRY_MAX_ATTEMPTS", "4"}});
    REQUIRE(eventually([&] {
      auto pong = client().Get("/conduit-reactor/ping");
      return pong && pong->status == 200;
    }));
    auto imported = client().Patch("/conduit/internal/webhooks/import",
                                   R"({"provider":")" + provider +
                                       R"(","repo_id":"app",)"
                                       R"("repo_path":")" +
                                       repo_path + R"(","secret":")" + kSecret + "\"}",
                                   "application/json");
    REQUIRE(imported);
    REQUIRE(imported->status == 201);
  }
  ~BitbucketFlow() {
    conduit_->signal(SIGTERM);
    conduit_->wait();
  }

  // POSTs `body` as Bitbucket signs it, with `headers` (the event key and the request id);
  // returns the HTTP status.
  int post(httplib::Headers headers, const std::string& body) {
    headers.emplace("X-Hub-Signature", githubSignature(kSecret, body));
    auto response = client().Post("/conduit/webhooks/" + provider_ + "/app/payload", headers, body,
                                  "application/json");
    return response ? response->status : 0;
  }

  // Everything queued was acknowledged.
  bool settled() {
    conduit::store::RedisConnection redis(redis_.endpoint(), std::chrono::seconds(2));
    return redis.command({"XLEN", QueueNames::kStream}).integer == 0;
  }

  JiraSimulator& jira() { return jira_; }

 private:
  httplib::Client client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10);
    return client;
  }

  std::string provider_;
  RedisServer redis_;
  std::string dir_ = redis_.directory();
  JiraSimulator jira_;
  int port_ = freeLoopbackPort();
  std::unique_ptr<Process> conduit_;
};

httplib::Headers cloudHeaders(const std::string& event_key, const std::string& request_uuid) {
  return {{"X-Event-Key", event_key},
          {"X-Request-UUID", request_uuid},
          {"X-Hook-UUID", "{5f2c3c4e-0000-4000-8000-000000000001}"},
          {"X-Attempt-Number", "1"}};
}

httplib::Headers dataCenterHeaders(const std::string& event_key, const std::string& request_id) {
  return {{"X-Event-Key", event_key}, {"X-Request-Id", request_id}};
}

std::string cloudPullRequest(const std::string& title, const std::string& description,
                             const std::string& branch) {
  return R"({"actor":{"nickname":"alice","display_name":"Alice"},)"
         R"("repository":{"full_name":"acme/app"},"pullrequest":{"id":12,"title":")" +
         title + R"(","description":")" + description + R"(","source":{"branch":{"name":")" +
         branch +
         R"("}},"destination":{"branch":{"name":"main"}},)"
         R"("links":{"html":{"href":"https://bitbucket.org/acme/app/pull-requests/12"}}}})";
}

std::string dataCenterPullRequest(const std::string& title, const std::string& description,
                                  const std::string& branch) {
  return R"({"actor":{"name":"bob","displayName":"Bob"},"pullRequest":{"id":7,"title":")" + title +
         R"(","description":")" + description + R"(","fromRef":{"displayId":")" + branch +
         R"("},"toRef":{"displayId":"main","repository":{"slug":"app","project":{"key":"ACME"}}},)"
         R"("links":{"self":[{"href":"https://bb.example.com/projects/ACME/repos/app/pull-requests/7"}]}}})";
}

}  // namespace

TEST_CASE("bitbucket flow: Cloud - a merge moves the keys of its title, description and branch") {
  BitbucketFlow flow("bitbucket", "acme/app");
  const std::string merged =
      cloudPullRequest("SOC-1: login", "Also fixes SOC-2.", "feature/SOC-3-login");
  CHECK(flow.post(cloudHeaders("pullrequest:fulfilled", "m-1"), merged) == 202);
  REQUIRE(eventually([&] { return flow.jira().totalTransitionsApplied() == 3; }));
  REQUIRE(eventually([&] { return flow.settled(); }));
  for (const char* key : {"SOC-1", "SOC-2", "SOC-3"}) {
    CHECK_MESSAGE(flow.jira().status(key) == "In Progress", key);
    CHECK_MESSAGE(flow.jira().transitionsApplied(key) == 1, key);
  }
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-1").size() == 1; }));
  const std::string comment = flow.jira().comments("SOC-1")[0];
  CHECK(comment.find("pull request #12 \"SOC-1: login\" "
                     "(https://bitbucket.org/acme/app/pull-requests/12) was merged by alice on "
                     "Bitbucket Cloud") != std::string::npos);

  // Bitbucket's retry (the same X-Request-UUID): a duplicate, nothing moves again.
  auto retry = cloudHeaders("pullrequest:fulfilled", "m-1");
  CHECK(flow.post(retry, merged) == 200);
  // Declined: closed without merge, moves nothing.
  CHECK(flow.post(cloudHeaders("pullrequest:rejected", "r-1"),
                  cloudPullRequest("SOC-4", "", "feature/SOC-4")) == 202);
  REQUIRE(eventually([&] { return flow.settled(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(flow.jira().totalTransitionsApplied() == 3);
  CHECK(flow.jira().transitionsApplied("SOC-4") == 0);
}

TEST_CASE("bitbucket flow: Cloud - a push moves the keys of its commit messages") {
  BitbucketFlow flow("bitbucket", "acme/app");
  const std::string push =
      R"({"actor":{"nickname":"pat"},"repository":{"full_name":"acme/app"},"push":{"changes":[)"
      R"({"new":{"type":"branch","name":"main"},"truncated":false,"commits":[)"
      R"({"hash":"b","message":"DEVHOP-8: retry\n"},{"hash":"a","message":"SOC-7: fix\n"}]}]}})";
  CHECK(flow.post(cloudHeaders("repo:push", "p-1"), push) == 202);
  REQUIRE(eventually([&] { return flow.jira().totalTransitionsApplied() == 2; }));
  REQUIRE(eventually([&] { return flow.settled(); }));
  CHECK(flow.jira().status("SOC-7") == "In Progress");
  CHECK(flow.jira().status("DEVHOP-8") == "In Progress");
}

TEST_CASE("bitbucket flow: Data Center - a merge moves its keys - its push names nothing") {
  BitbucketFlow flow("bitbucket-server", "ACME/app");
  const std::string merged =
      dataCenterPullRequest("SOC-1: login", "Also fixes DEVHOP-2.", "feature/SOC-3-login");
  CHECK(flow.post(dataCenterHeaders("pr:merged", "m-1"), merged) == 202);
  REQUIRE(eventually([&] { return flow.jira().totalTransitionsApplied() == 3; }));
  REQUIRE(eventually([&] { return flow.settled(); }));
  for (const char* key : {"SOC-1", "DEVHOP-2", "SOC-3"}) {
    CHECK_MESSAGE(flow.jira().status(key) == "In Progress", key);
  }
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-1").size() == 1; }));
  CHECK(flow.jira().comments("SOC-1")[0].find(
            "pull request #7 \"SOC-1: login\" "
            "(https://bb.example.com/projects/ACME/repos/app/pull-requests/7) was merged by bob "
            "on Bitbucket Data Center") != std::string::npos);

  // Declined moves nothing; the push (on a branch named for an issue, even) carries no commit
  // messages and moves nothing; Test connection is answered and queues nothing.
  CHECK(flow.post(dataCenterHeaders("pr:declined", "d-1"),
                  dataCenterPullRequest("SOC-4", "", "feature/SOC-4")) == 202);
  CHECK(
      flow.post(dataCenterHeaders("repo:refs_changed", "p-1"),
                R"({"actor":{"name":"bob"},"repository":{"slug":"app","project":{"key":"ACME"}},)"
                R"("changes":[{"ref":{"id":"refs/heads/feature/SOC-5","displayId":"feature/SOC-5",)"
                R"("type":"BRANCH"},"fromHash":"a","toHash":"b","type":"UPDATE"}]})") == 202);
  CHECK(flow.post(dataCenterHeaders("diagnostics:ping", "t-1"), R"({"test": true})") == 200);
  REQUIRE(eventually([&] { return flow.settled(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(flow.jira().totalTransitionsApplied() == 3);
  CHECK(flow.jira().transitionsApplied("SOC-4") == 0);
  CHECK(flow.jira().transitionsApplied("SOC-5") == 0);
}
