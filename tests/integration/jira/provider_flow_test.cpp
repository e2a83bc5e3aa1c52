// The whole flow for code hosts other than GitHub, as their users meet it: the host's real
// recorded request (tests/data/payloads/, its exact shape and headers) with the issue keys put
// in, authenticated as the host does it, to `conduit run` (the real binary), through Redis and
// the real jira.so, to the Jira simulator. The same queue, workers and plugin as GitHub's.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

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

// A request as a host sends it: its headers and its body.
struct HostRequest {
  std::map<std::string, std::string> headers;
  std::string body;
};

// The recorded request `name` ("gitlab/merge_request_merge.captured"): NAME.json's bytes and
// the headers of NAME.headers.json.
HostRequest recorded(const std::string& name) {
  const std::string base = std::string(CONDUIT_TEST_DATA_DIR) + "/payloads/" + name;
  HostRequest request{{}, readText(base + ".json")};
  rapidjson::Document headers;
  headers.Parse(readText(base + ".headers.json").c_str());
  REQUIRE(headers.IsObject());
  for (const auto& header : headers["headers"].GetObject())
    request.headers[header.name.GetString()] = header.value.GetString();
  return request;
}

// The request with its payload changed by `change`: the same shape, other values (the recorded
// payloads name no Jira issues).
HostRequest edited(HostRequest request, const std::function<void(rapidjson::Document&)>& change) {
  rapidjson::Document payload;
  payload.Parse(request.body.c_str());
  REQUIRE(payload.IsObject());
  change(payload);
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> writer(text);
  payload.Accept(writer);
  request.body = text.GetString();
  return request;
}

// Sets the string at the JSON pointer `path`, creating it if the payload has none.
void set(rapidjson::Document& payload, const char* path, const std::string& text) {
  rapidjson::Pointer(path).Create(payload).SetString(
      text.c_str(), static_cast<rapidjson::SizeType>(text.size()), payload.GetAllocator());
}

// (Not an overload of set(): a string literal would take it, as a pointer converts to bool.)
void setFlag(rapidjson::Document& payload, const char* path, bool flag) {
  rapidjson::Pointer(path).Create(payload).SetBool(flag);
}

// The hex HMAC-SHA256 of `body` with `secret`.
std::string hmacHex(const std::string& secret, const std::string& body) {
  return conduit::testing::githubSignature(secret, body).substr(std::string("sha256=").size());
}

// Redis, the simulator, and `conduit run` on the original's app.env, the shipped jira.hcl and the
// original's workers.yaml (worker `atlassian`: devhop and soc), here commenting on each issue it
// moves and triggered by merges, pushes, tags and releases; one hook `<provider>/app`.
class HostFlow {
 public:
  HostFlow(std::string provider, const std::string& repo_path) : provider_(std::move(provider)) {
    jira_.start();
    fs::copy(std::string(CONDUIT_CONFIG_DIR) + "/statemachines", dir_ + "/statemachines");
    fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/workers.yaml", dir_ + "/workers.yaml");
    std::ofstream(dir_ + "/workers.yaml", std::ios::app) << "    comment: true\n"
                                                            "    triggers:\n"
                                                            "      pull_request.merged: next\n"
                                                            "      release.published: next\n"
                                                            "      push: next\n"
                                                            "      tag: next\n";
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
    CHECK(conduit::testing::jsonString(response->body, "/data/uri") ==
          "/conduit/webhooks/" + provider_ + "/app/payload");
  }

  ~HostFlow() {
    conduit_->signal(SIGTERM);
    conduit_->wait();
  }

  // POSTs `request` as delivery `delivery_id`, authenticated with the hook's secret as the host
  // does it (its token, or its signatures over the exact body); returns the HTTP status.
  int send(HostRequest request, const std::string& delivery_id) {
    for (const char* name :
         {"Idempotency-Key", "X-Gitea-Delivery", "X-Gogs-Delivery", "X-Forgejo-Delivery",
          "X-GitHub-Delivery", "X-Request-UUID", "X-Request-Id"}) {
      if (request.headers.count(name) != 0) request.headers[name] = delivery_id;
    }
    // A new one for every request GitLab makes, retries included: not the delivery's id.
    if (request.headers.count("X-Gitlab-Webhook-UUID") != 0) {
      request.headers["X-Gitlab-Webhook-UUID"] = "webhook-uuid-" + std::to_string(++sent_);
    }
    const std::string hex = hmacHex(secret_, request.body);
    auto replace = [&](const char* name, const std::string& value) {
      if (request.headers.count(name) != 0) request.headers[name] = value;
    };
    replace("X-Gitlab-Token", secret_);
    replace("X-Gitea-Signature", hex);
    replace("X-Gogs-Signature", hex);
    replace("X-Forgejo-Signature", hex);
    replace("X-Hub-Signature-256", "sha256=" + hex);
    // Bitbucket's is SHA-256; Gitea's copy under this name is SHA-1, which Conduit ignores.
    if (request.headers.count("X-Hub-Signature") != 0) {
      if (request.headers["X-Hub-Signature"].rfind("sha256=", 0) == 0) {
        request.headers["X-Hub-Signature"] = "sha256=" + hex;
      } else {
        request.headers.erase("X-Hub-Signature");
      }
    }
    const std::string content_type = request.headers["Content-Type"];
    request.headers.erase("Content-Type");
    httplib::Headers headers(request.headers.begin(), request.headers.end());
    httplib::Client client("127.0.0.1", port_);
    auto response = client.Post("/conduit/webhooks/" + provider_ + "/app/payload", headers,
                                request.body, content_type.c_str());
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

  // Everything queued was acknowledged.
  bool settled() {
    conduit::store::RedisConnection redis(redis_.endpoint(), std::chrono::seconds(2));
    return redis.command({"XLEN", conduit::queue::QueueNames::kStream}).integer == 0;
  }

  JiraSimulator& jira() { return jira_; }

 private:
  std::string provider_;
  RedisServer redis_;
  std::string dir_ = redis_.directory();
  JiraSimulator jira_{conduit::jira_simulator::SimulatorOptions{}};
  int port_ = freeLoopbackPort();
  std::unique_ptr<Process> conduit_;
  std::string secret_;
  int sent_ = 0;
};

// Each key moved once, from To Do to In Progress, and nothing else moved.
void checkMovedOnce(HostFlow& flow, const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    CAPTURE(key);
    CHECK(flow.jira().status(key) == "In Progress");
    CHECK(flow.jira().transitionsApplied(key) == 1);
  }
  CHECK(flow.jira().totalTransitionsApplied() == static_cast<int>(keys.size()));
}

// The one comment on `key`.
std::string onlyComment(HostFlow& flow, const std::string& key) {
  const auto comments = flow.jira().comments(key);
  REQUIRE(comments.size() == 1);
  return comments[0];
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A redelivery of `request` (the host's retry: the same delivery id) is a duplicate: answered
// 200 and nothing moves again.
void checkRedeliveryIsDuplicate(HostFlow& flow, const HostRequest& request,
                                const std::string& delivery_id) {
  const int moved_before = flow.jira().totalTransitionsApplied();
  CHECK(flow.send(request, delivery_id) == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  REQUIRE(eventually([&] { return flow.settled(); }));
  CHECK(flow.jira().totalTransitionsApplied() == moved_before);
}

// ---- GitLab ----

HostRequest gitlabMergeRequest(const std::string& action, const std::string& state) {
  return edited(recorded("gitlab/merge_request_merge.captured"), [&](rapidjson::Document& p) {
    set(p, "/object_attributes/title", "SOC-1: update the readme");
    set(p, "/object_attributes/description", "Adds build instructions (DEVHOP-2).");
    set(p, "/object_attributes/source_branch", "feature/SOC-3-readme");
    set(p, "/object_attributes/action", action);
    set(p, "/object_attributes/state", state);
  });
}

}  // namespace

TEST_CASE("provider flow: GitLab - a merged merge request moves each issue it names once") {
  HostFlow flow("gitlab", "gitlab-org/hello-world");
  const auto merged = gitlabMergeRequest("merge", "merged");
  CHECK(flow.send(merged, "gl-merge-1") == 202);
  const auto record = flow.ended("gl-merge-1");
  REQUIRE(record.has_value());
  CHECK(conduit::queue::statusName(record->status) == "done");
  CHECK(record->kind == "pull_request.merged");
  CHECK(record->issues == std::vector<std::string>{"DEVHOP-2", "SOC-1", "SOC-3"});
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-3").size() == 1; }));
  checkMovedOnce(flow, {"SOC-1", "DEVHOP-2", "SOC-3"});

  // The comment is in GitLab's words, and links to the merge request.
  const std::string comment = onlyComment(flow, "SOC-1");
  CAPTURE(comment);
  CHECK(contains(comment, "Moved to In Progress"));
  CHECK(contains(comment, "merge request !1 \"SOC-1: update the readme\""));
  CHECK(contains(comment, "(https://gitlab.com/gitlab-org/hello-world/merge_requests/1)"));
  CHECK(contains(comment, " on GitLab"));

  // GitLab's retry keeps its Idempotency-Key (with a new X-Gitlab-Webhook-UUID): a duplicate.
  checkRedeliveryIsDuplicate(flow, merged, "gl-merge-1");
}

TEST_CASE("provider flow: GitLab - a merge request closed without merge moves nothing") {
  HostFlow flow("gitlab", "gitlab-org/hello-world");
  CHECK(flow.send(gitlabMergeRequest("close", "closed"), "gl-close-1") == 202);
  const auto record = flow.ended("gl-close-1");
  REQUIRE(record.has_value());
  CHECK(conduit::queue::statusName(record->status) == "ignored");
  CHECK(record->kind == "pull_request.closed");
  CHECK(record->reason == "atlassian: pull request closed without merge");
  CHECK(flow.jira().totalTransitionsApplied() == 0);
}

TEST_CASE("provider flow: GitLab - a push moves the keys of its commit messages") {
  HostFlow flow("gitlab", "mike/diaspora");
  const auto push = edited(recorded("gitlab/push.docs"), [](rapidjson::Document& p) {
    set(p, "/commits/0/message", "Merge branch 'some-feature'\n\nCloses SOC-11 and DEVHOP-12\n");
    set(p, "/commits/1/message", "SOC-13: fix the release notes\n");
  });
  CHECK(flow.send(push, "gl-push-1") == 202);
  const auto record = flow.ended("gl-push-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "push");
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-13").size() == 1; }));
  checkMovedOnce(flow, {"SOC-11", "DEVHOP-12", "SOC-13"});
  CHECK(contains(onlyComment(flow, "SOC-11"), " on GitLab"));
  checkRedeliveryIsDuplicate(flow, push, "gl-push-1");
}

TEST_CASE("provider flow: GitLab - a release moves the keys of its description") {
  HostFlow flow("gitlab", "exm-namespace/example-project");
  const auto release = edited(recorded("gitlab/release_create.docs"), [](rapidjson::Document& p) {
    set(p, "/description", "Release!\n\n- SOC-21: sign-in\n- DEVHOP-22: faster builds");
  });
  CHECK(flow.send(release, "gl-release-1") == 202);
  const auto record = flow.ended("gl-release-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "release.published");
  REQUIRE(eventually([&] { return flow.jira().comments("DEVHOP-22").size() == 1; }));
  checkMovedOnce(flow, {"SOC-21", "DEVHOP-22"});
  const std::string comment = onlyComment(flow, "SOC-21");
  CAPTURE(comment);
  CHECK(contains(comment, "release 1.0.0"));
  CHECK(contains(comment, " on GitLab"));
  checkRedeliveryIsDuplicate(flow, release, "gl-release-1");
}

TEST_CASE("provider flow: GitLab - a pushed tag moves the key of its name - with a tag trigger") {
  HostFlow flow("gitlab", "jsmith/example");
  const auto tag = edited(recorded("gitlab/tag_push.docs"), [](rapidjson::Document& p) {
    set(p, "/ref", "refs/tags/SOC-95-hotfix");
  });
  CHECK(flow.send(tag, "gl-tag-1") == 202);
  const auto record = flow.ended("gl-tag-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "tag");
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-95").size() == 1; }));
  checkMovedOnce(flow, {"SOC-95"});
  const std::string comment = onlyComment(flow, "SOC-95");
  CAPTURE(comment);
  CHECK(contains(comment,
                 "tag SOC-95-hotfix (http://example.com/jsmith/example/-/tags/SOC-95-hotfix)"));
  CHECK(contains(comment, " on GitLab"));
}

namespace {

// ---- Gitea ----

HostRequest giteaPullRequest(bool merged) {
  return edited(recorded("gitea/pull_request_merged.go-scm"), [&](rapidjson::Document& p) {
    set(p, "/pull_request/title", "SOC-31: add a license");
    set(p, "/pull_request/body", "Using a BSD license, as DEVHOP-32 asked.");
    set(p, "/pull_request/head/ref", "feature/SOC-33-license");
    set(p, "/pull_request/head/label", "feature/SOC-33-license");
    setFlag(p, "/pull_request/merged", merged);
  });
}

}  // namespace

TEST_CASE("provider flow: Gitea - a merged pull request moves each issue it names once") {
  HostFlow flow("gitea", "jcitizen/my-repo");
  const auto merged = giteaPullRequest(true);
  CHECK(flow.send(merged, "gt-merge-1") == 202);
  const auto record = flow.ended("gt-merge-1");
  REQUIRE(record.has_value());
  CHECK(conduit::queue::statusName(record->status) == "done");
  CHECK(record->kind == "pull_request.merged");
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-33").size() == 1; }));
  checkMovedOnce(flow, {"SOC-31", "DEVHOP-32", "SOC-33"});
  const std::string comment = onlyComment(flow, "SOC-31");
  CAPTURE(comment);
  CHECK(contains(comment, "pull request #1 \"SOC-31: add a license\""));
  CHECK(contains(comment, "(https://try.gitea.io/jcitizen/my-repo/pulls/1)"));
  CHECK(contains(comment, " on Gitea"));
  checkRedeliveryIsDuplicate(flow, merged, "gt-merge-1");
}

TEST_CASE("provider flow: Gitea - a pull request closed without merge moves nothing") {
  HostFlow flow("gitea", "jcitizen/my-repo");
  CHECK(flow.send(giteaPullRequest(false), "gt-close-1") == 202);
  const auto record = flow.ended("gt-close-1");
  REQUIRE(record.has_value());
  CHECK(conduit::queue::statusName(record->status) == "ignored");
  CHECK(record->kind == "pull_request.closed");
  CHECK(flow.jira().totalTransitionsApplied() == 0);
}

TEST_CASE("provider flow: Gitea - a push moves the keys of its commit messages") {
  HostFlow flow("gitea", "gogits/hello-world");
  const auto push = edited(recorded("gitea/push.go-scm"), [](rapidjson::Document& p) {
    set(p, "/commits/0/message", "Updated readme for SOC-41\n\nAlso DEVHOP-42.\n");
  });
  CHECK(flow.send(push, "gt-push-1") == 202);
  const auto record = flow.ended("gt-push-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "push");
  REQUIRE(eventually([&] { return flow.jira().comments("DEVHOP-42").size() == 1; }));
  checkMovedOnce(flow, {"SOC-41", "DEVHOP-42"});
  CHECK(contains(onlyComment(flow, "SOC-41"), " on Gitea"));
  checkRedeliveryIsDuplicate(flow, push, "gt-push-1");
}

TEST_CASE("provider flow: Gitea - a published release moves the keys of its body") {
  HostFlow flow("gitea", "jcitizen/my-repo");
  // Gitea's `release` event (services/webhook: api.ReleasePayload), with its headers.
  auto release = recorded("gitea/pull_request_merged.go-scm");
  for (const char* name : {"X-Gitea-Event", "X-Gitea-Event-Type", "X-Gogs-Event",
                           "X-Gogs-Event-Type", "X-GitHub-Event", "X-GitHub-Event-Type"})
    release.headers[name] = "release";
  release.body =
      R"({"action":"published","release":{"id":12,"tag_name":"v1.2.0",)"
      R"("target_commitish":"main","name":"v1.2.0","body":"Fixes SOC-51 and DEVHOP-52",)"
      R"("url":"https://try.gitea.io/api/v1/repos/jcitizen/my-repo/releases/12",)"
      R"("html_url":"https://try.gitea.io/jcitizen/my-repo/releases/tag/v1.2.0",)"
      R"("draft":false,"prerelease":false,"created_at":"2026-12-05T17:00:00Z",)"
      R"("published_at":"2026-12-05T17:00:00Z","author":{"id":6641,"login":"jcitizen",)"
      R"("username":"jcitizen"}},"repository":{"id":6589,"name":"my-repo",)"
      R"("full_name":"jcitizen/my-repo","html_url":"https://try.gitea.io/jcitizen/my-repo"},)"
      R"("sender":{"id":6641,"login":"jcitizen","username":"jcitizen"}})";
  CHECK(flow.send(release, "gt-release-1") == 202);
  const auto record = flow.ended("gt-release-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "release.published");
  REQUIRE(eventually([&] { return flow.jira().comments("DEVHOP-52").size() == 1; }));
  checkMovedOnce(flow, {"SOC-51", "DEVHOP-52"});
  const std::string comment = onlyComment(flow, "SOC-51");
  CAPTURE(comment);
  CHECK(contains(comment, "release v1.2.0"));
  CHECK(contains(comment, " on Gitea"));
  checkRedeliveryIsDuplicate(flow, release, "gt-release-1");
}

// ---- Forgejo ----

TEST_CASE("provider flow: Forgejo - a push moves the keys of its commit messages") {
  HostFlow flow("forgejo", "forgejo/webhooks");
  const auto push = edited(recorded("forgejo/push.docs"), [](rapidjson::Document& p) {
    set(p, "/commits/0/message", "Webhooks Yay! SOC-91, DEVHOP-92");
  });
  CHECK(flow.send(push, "fj-push-1") == 202);
  const auto record = flow.ended("fj-push-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "push");
  REQUIRE(eventually([&] { return flow.jira().comments("DEVHOP-92").size() == 1; }));
  checkMovedOnce(flow, {"SOC-91", "DEVHOP-92"});
  CHECK(contains(onlyComment(flow, "SOC-91"), " on Forgejo"));
  checkRedeliveryIsDuplicate(flow, push, "fj-push-1");
}

TEST_CASE("provider flow: Forgejo - a merged pull request (Gitea's shape) moves each issue once") {
  HostFlow flow("forgejo", "jcitizen/my-repo");
  // Forgejo sends Gitea's payload and headers, and its own X-Forgejo-* beside them.
  auto merged = giteaPullRequest(true);
  merged.headers["X-Forgejo-Event"] = "pull_request";
  merged.headers["X-Forgejo-Event-Type"] = "pull_request";
  merged.headers["X-Forgejo-Delivery"] = "";
  merged.headers["X-Forgejo-Signature"] = "";
  CHECK(flow.send(merged, "fj-merge-1") == 202);
  const auto record = flow.ended("fj-merge-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "pull_request.merged");
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-33").size() == 1; }));
  checkMovedOnce(flow, {"SOC-31", "DEVHOP-32", "SOC-33"});
  CHECK(contains(onlyComment(flow, "SOC-31"), " on Forgejo"));
  checkRedeliveryIsDuplicate(flow, merged, "fj-merge-1");
}

namespace {

// ---- Bitbucket Cloud and Data Center ----

// The recorded merged pull request under `event_key`, with the state that key's event has (the
// signed body's state must agree with the unsigned key).
HostRequest bitbucketPullRequest(const std::string& event_key, const std::string& state) {
  auto request =
      edited(recorded("bitbucket-cloud/pullrequest_fulfilled.go-scm"), [&](rapidjson::Document& p) {
        set(p, "/pullrequest/state", state);
        set(p, "/pullrequest/title", "SOC-61: awesome new feature");
        set(p, "/pullrequest/description", "Made some changes for DEVHOP-62.");
        set(p, "/pullrequest/summary/raw", "Made some changes for DEVHOP-62.");
        set(p, "/pullrequest/source/branch/name", "feature/SOC-63-awesome");
      });
  request.headers["X-Event-Key"] = event_key;
  return request;
}

HostRequest bitbucketServerPullRequest(const std::string& event_key, const std::string& state) {
  auto request = edited(recorded("bitbucket-dc/pr_merged"), [&](rapidjson::Document& p) {
    set(p, "/eventKey", event_key);
    set(p, "/pullRequest/state", state);
    set(p, "/pullRequest/title", "SOC-71: develop");
    set(p, "/pullRequest/description", "* added LICENSE for DEVHOP-72\r\n* add COPYING file");
    set(p, "/pullRequest/fromRef/id", "refs/heads/feature/SOC-73-license");
    set(p, "/pullRequest/fromRef/displayId", "feature/SOC-73-license");
    // What Data Center sends beside it (the recorded fixture leaves its links out).
    set(p, "/pullRequest/links/self/0/href",
        "https://bitbucket.example.com/projects/PRJ/repos/my-repo/pull-requests/3");
  });
  request.headers["X-Event-Key"] = event_key;
  return request;
}

}  // namespace

TEST_CASE("provider flow: Bitbucket Cloud - a merged pull request moves each issue once") {
  HostFlow flow("bitbucket", "brydzewski/foo");
  const auto merged = bitbucketPullRequest("pullrequest:fulfilled", "MERGED");
  CHECK(flow.send(merged, "bb-merge-1") == 202);
  const auto record = flow.ended("bb-merge-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "pull_request.merged");
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-63").size() == 1; }));
  checkMovedOnce(flow, {"SOC-61", "DEVHOP-62", "SOC-63"});
  const std::string comment = onlyComment(flow, "SOC-61");
  CAPTURE(comment);
  CHECK(contains(comment, "pull request #1 \"SOC-61: awesome new feature\""));
  CHECK(contains(comment, "(https://bitbucket.org/brydzewski/foo/pull-requests/1)"));
  CHECK(contains(comment, " on Bitbucket Cloud"));
  checkRedeliveryIsDuplicate(flow, merged, "bb-merge-1");

  // Declined: closed without merge, nothing moves.
  CHECK(flow.send(bitbucketPullRequest("pullrequest:rejected", "DECLINED"), "bb-declined-1") ==
        202);
  const auto declined = flow.ended("bb-declined-1");
  REQUIRE(declined.has_value());
  CHECK(conduit::queue::statusName(declined->status) == "ignored");
  CHECK(declined->kind == "pull_request.closed");
  CHECK(flow.jira().totalTransitionsApplied() == 3);
}

TEST_CASE("provider flow: Bitbucket Cloud - a push moves the keys of its commit messages") {
  HostFlow flow("bitbucket", "brydzewski/foo");
  const auto push =
      edited(recorded("bitbucket-cloud/repo_push.go-scm"), [](rapidjson::Document& p) {
        set(p, "/push/changes/0/commits/0/message", "Update README for SOC-81 and DEVHOP-82\n");
      });
  CHECK(flow.send(push, "bb-push-1") == 202);
  const auto record = flow.ended("bb-push-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "push");
  REQUIRE(eventually([&] { return flow.jira().comments("DEVHOP-82").size() == 1; }));
  checkMovedOnce(flow, {"SOC-81", "DEVHOP-82"});
  CHECK(contains(onlyComment(flow, "SOC-81"), " on Bitbucket Cloud"));
  checkRedeliveryIsDuplicate(flow, push, "bb-push-1");
}

TEST_CASE("provider flow: Bitbucket Data Center - merged moves each issue once - declined none") {
  HostFlow flow("bitbucket-server", "PRJ/my-repo");
  const auto merged = bitbucketServerPullRequest("pr:merged", "MERGED");
  CHECK(flow.send(merged, "bbs-merge-1") == 202);
  const auto record = flow.ended("bbs-merge-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "pull_request.merged");
  REQUIRE(eventually([&] { return flow.jira().comments("SOC-73").size() == 1; }));
  checkMovedOnce(flow, {"SOC-71", "DEVHOP-72", "SOC-73"});
  const std::string comment = onlyComment(flow, "SOC-71");
  CAPTURE(comment);
  CHECK(contains(comment, "pull request #3 \"SOC-71: develop\""));
  CHECK(contains(comment,
                 "(https://bitbucket.example.com/projects/PRJ/repos/my-repo/pull-requests/3)"));
  CHECK(contains(comment, " on Bitbucket Data Center"));
  checkRedeliveryIsDuplicate(flow, merged, "bbs-merge-1");

  CHECK(flow.send(bitbucketServerPullRequest("pr:declined", "DECLINED"), "bbs-declined-1") == 202);
  const auto declined = flow.ended("bbs-declined-1");
  REQUIRE(declined.has_value());
  CHECK(conduit::queue::statusName(declined->status) == "ignored");
  CHECK(declined->kind == "pull_request.closed");
  CHECK(flow.jira().totalTransitionsApplied() == 3);
}

TEST_CASE(
    "provider flow: Bitbucket Data Center - its push names nothing - its test moves nothing") {
  HostFlow flow("bitbucket-server", "PRJ/my-repo");
  // The classic refs-changed event carries no commit messages: even a branch named for an issue
  // moves nothing (its keys are not looked for in branch names of pushes on any host).
  const auto push =
      edited(recorded("bitbucket-dc/repo_refs_changed.signed"), [](rapidjson::Document& p) {
        set(p, "/changes/0/ref/id", "refs/heads/feature/SOC-91");
        set(p, "/changes/0/ref/displayId", "feature/SOC-91");
      });
  CHECK(flow.send(push, "bbs-push-1") == 202);
  const auto record = flow.ended("bbs-push-1");
  REQUIRE(record.has_value());
  CHECK(record->kind == "push");

  // "Test connection", unsigned as some versions send it: answered, never queued.
  HostRequest ping{{{"Content-Type", "application/json"},
                    {"X-Event-Key", "diagnostics:ping"},
                    {"X-Request-Id", "t"}},
                   R"({"test": true})"};
  CHECK(flow.send(ping, "bbs-ping-1") == 200);
  REQUIRE(eventually([&] { return flow.settled(); }));
  CHECK(flow.jira().totalTransitionsApplied() == 0);
}
