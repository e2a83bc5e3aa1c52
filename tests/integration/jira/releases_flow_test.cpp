// Fix versions and links back as a user meets them: a host's signed delivery to `conduit run`
// (the real binary, the original's configuration files with `fix_versions` or `link` set),
// through Redis and the real jira.so, to the Jira simulator, read back over its REST API.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "jira_simulator.hpp"
#include "process.hpp"
#include "queue/delivery_log.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"

using conduit::jira_simulator::JiraSimulator;
using conduit::queue::DeliveryRecord;
using conduit::queue::DeliveryStatus;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::RedisServer;

namespace {

namespace fs = std::filesystem;

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Redis, the simulator, and `conduit run` on the original's app.env, the shipped jira.hcl and
// the original's workers.yaml (worker `atlassian`: devhop and soc) with `worker_lines` added;
// one hook `<provider>/app`.
class ReleaseFlow {
 public:
  ReleaseFlow(std::string provider, const std::string& repo_path, const std::string& worker_lines)
      : provider_(std::move(provider)) {
    jira_.start();
    fs::copy(std::string(CONDUIT_CONFIG_DIR) + "/statemachines", dir_ + "/statemachines");
    fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/workers.yaml", dir_ + "/workers.yaml");
    std::ofstream(dir_ + "/workers.yaml", std::ios::app) << worker_lines;
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
            {"CONDUIT_RETRY_MAX_MS", "2000"}});
    REQUIRE(eventually([&] {
      httplib::Client client("127.0.0.1", port_);
      auto pong = client.Get("/conduit-reactor/ping");
      return pong && pong->status == 200;
    }));
    httplib::Client client("127.0.0.1", port_);
    auto response = client.Post(
        "/conduit/webhooks/register",
        R"({"provider":")" + provider_ + R"(","repo_path":")" + repo_path + R"(","repo_id":"app"})",
        "application/json");
    REQUIRE(response);
    REQUIRE_MESSAGE(response->status == 201, response->body);
    secret_ = conduit::testing::jsonString(response->body, "/data/secret");
  }

  ~ReleaseFlow() {
    conduit_->signal(SIGTERM);
    conduit_->wait();
  }

  // POSTs `body` as GitHub does: its event header, delivery id and signature.
  int sendGithub(const std::string& event, const std::string& delivery_id,
                 const std::string& body) {
    httplib::Client client("127.0.0.1", port_);
    auto response =
        client.Post("/conduit/webhooks/github/app/payload",
                    {{"X-GitHub-Event", event},
                     {"X-GitHub-Delivery", delivery_id},
                     {"X-Hub-Signature-256", conduit::testing::githubSignature(secret_, body)}},
                    body, "application/json");
    return response ? response->status : 0;
  }

  // POSTs the recorded GitLab request `name` with its payload's `changes` (JSON pointer ->
  // text), with the hook's token and `delivery_id` as its Idempotency-Key.
  int sendGitlab(const std::string& name, const std::map<std::string, std::string>& changes,
                 const std::string& delivery_id) {
    const std::string base = std::string(CONDUIT_TEST_DATA_DIR) + "/payloads/gitlab/" + name;
    rapidjson::Document payload;
    payload.Parse(readText(base + ".json").c_str());
    REQUIRE(payload.IsObject());
    for (const auto& [path, text] : changes) {
      rapidjson::Pointer(path.c_str())
          .Create(payload)
          .SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()),
                     payload.GetAllocator());
    }
    rapidjson::StringBuffer body;
    rapidjson::Writer<rapidjson::StringBuffer> writer(body);
    payload.Accept(writer);
    rapidjson::Document recorded_headers;
    recorded_headers.Parse(readText(base + ".headers.json").c_str());
    REQUIRE(recorded_headers.IsObject());
    httplib::Headers headers;
    std::string content_type = "application/json";
    for (const auto& header : recorded_headers["headers"].GetObject()) {
      const std::string header_name = header.name.GetString();
      std::string value = header.value.GetString();
      if (header_name == "Content-Type") {
        content_type = value;
        continue;
      }
      if (header_name == "X-Gitlab-Token") value = secret_;
      if (header_name == "Idempotency-Key") value = delivery_id;
      headers.emplace(header_name, value);
    }
    httplib::Client client("127.0.0.1", port_);
    auto response = client.Post("/conduit/webhooks/gitlab/app/payload", headers, body.GetString(),
                                content_type.c_str());
    return response ? response->status : 0;
  }

  // Waits until the delivery's record has left queued, processing and retrying.
  std::optional<DeliveryRecord> ended(const std::string& delivery_id) {
    std::optional<DeliveryRecord> found;
    eventually([&] {
      conduit::store::RedisPool pool(redis_.endpoint(), std::chrono::seconds(2));
      conduit::queue::DeliveryLog log(pool, conduit::queue::LogSettings{});
      found = log.find({provider_, "app", delivery_id}, false);
      return found &&
             (found->status == DeliveryStatus::kDone || found->status == DeliveryStatus::kDead ||
              found->status == DeliveryStatus::kIgnored);
    });
    return found;
  }

  JiraSimulator& jira() { return jira_; }

  // GETs `path` from the simulator's REST API, as a Jira client; parsed.
  rapidjson::Document jiraGet(const std::string& path) {
    httplib::Client client(jira_.url());
    client.set_basic_auth("dev@example.test", "simulator-token");
    auto result = client.Get(path.c_str());
    REQUIRE(result);
    REQUIRE(result->status == 200);
    rapidjson::Document document;
    document.Parse(result->body.c_str());
    return document;
  }

 private:
  std::string provider_;
  RedisServer redis_;
  std::string dir_ = redis_.directory();
  JiraSimulator jira_{conduit::jira_simulator::SimulatorOptions{}};
  int port_ = freeLoopbackPort();
  std::unique_ptr<Process> conduit_;
  std::string secret_;
};

bool contains(const std::vector<std::string>& actions, const std::string& part) {
  for (const auto& action : actions) {
    if (action.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("releases flow: a GitHub release moves SOC-1 and gives it the fix version v1.0.0") {
  ReleaseFlow flow("github", "acme/app", "    fix_versions: true\n");
  const std::string body =
      R"({"action":"published","release":{"tag_name":"v1.0.0","name":"v1.0.0",)"
      R"("body":"Sign-in with SSO: SOC-1","published_at":"2026-03-04T21:23:34Z",)"
      R"("html_url":"https://github.com/acme/app/releases/tag/v1.0.0",)"
      R"("author":{"login":"bob"}},"repository":{"full_name":"acme/app"}})";
  CHECK(flow.sendGithub("release", "rel-1", body) == 202);
  const auto record = flow.ended("rel-1");
  REQUIRE(record.has_value());
  CHECK(conduit::queue::statusName(record->status) == "done");
  CHECK(flow.jira().status("SOC-1") == "In Progress");

  auto versions = flow.jiraGet("/rest/api/2/project/SOC/versions");
  REQUIRE(versions.IsArray());
  REQUIRE(versions.Size() == 1);
  CHECK(std::string(versions[0]["name"].GetString()) == "v1.0.0");
  CHECK(versions[0]["released"].GetBool());
  CHECK(std::string(versions[0]["releaseDate"].GetString()) == "2026-03-04");
  auto issue = flow.jiraGet("/rest/api/2/issue/SOC-1?fields=fixVersions");
  const auto& fix_versions = issue["fields"]["fixVersions"];
  REQUIRE(fix_versions.Size() == 1);
  CHECK(std::string(fix_versions[0]["name"].GetString()) == "v1.0.0");

  // The delivery log says what was done.
  REQUIRE(record->workers.size() == 1);
  const auto& actions = record->workers[0].actions;
  CAPTURE(actions.size());
  CHECK(contains(actions, R"({"action":"version_created","project":"SOC","version":"v1.0.0"})"));
  CHECK(contains(actions, R"({"action":"fix_version","issue":"SOC-1","version":"v1.0.0"})"));

  // GitHub's redelivery is a duplicate; a second release event of the tag makes no second
  // version.
  CHECK(flow.sendGithub("release", "rel-1", body) == 200);
  CHECK(flow.sendGithub("release", "rel-2", body) == 202);
  REQUIRE(flow.ended("rel-2").has_value());
  CHECK(flow.jiraGet("/rest/api/2/project/SOC/versions").Size() == 1);
  CHECK(
      flow.jiraGet("/rest/api/2/issue/SOC-1?fields=fixVersions")["fields"]["fixVersions"].Size() ==
      1);
}

TEST_CASE("releases flow: a GitLab merge request links back from the issue") {
  ReleaseFlow flow("gitlab", "gitlab-org/hello-world", "    link: true\n");
  CHECK(flow.sendGitlab("merge_request_merge.captured",
                        {{"/object_attributes/title", "SOC-3: Sign-in with SSO"},
                         {"/object_attributes/description", ""},
                         {"/object_attributes/source_branch", "sso"}},
                        "gl-link-1") == 202);
  const auto record = flow.ended("gl-link-1");
  REQUIRE(record.has_value());
  CHECK(conduit::queue::statusName(record->status) == "done");
  auto links = flow.jiraGet("/rest/api/2/issue/SOC-3/remotelink");
  REQUIRE(links.IsArray());
  REQUIRE(links.Size() == 1);
  CHECK(std::string(links[0]["globalId"].GetString()) ==
        "https://gitlab.com/gitlab-org/hello-world/merge_requests/1");
  CHECK(std::string(links[0]["object"]["url"].GetString()) ==
        "https://gitlab.com/gitlab-org/hello-world/merge_requests/1");
  CHECK(std::string(links[0]["object"]["title"].GetString()) ==
        "MR !1: SOC-3: Sign-in with SSO (merged)");
  REQUIRE(record->workers.size() == 1);
  CHECK(contains(record->workers[0].actions,
                 R"({"action":"linked","issue":"SOC-3",)"
                 R"("url":"https://gitlab.com/gitlab-org/hello-world/merge_requests/1"})"));
}
