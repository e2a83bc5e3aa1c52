#include "providers/bitbucket_server_provider.hpp"

#include <algorithm>
#include <string>

#include <doctest/doctest.h>

#include "provider_test_support.hpp"

using conduit::providers::Event;
using conduit::providers::SignatureStatus;
using conduit::testing::headers;
using conduit::testing::kRecordedSecret;
using conduit::testing::recordedRequest;

namespace {

const conduit::providers::Provider& dataCenter() {
  return conduit::testing::provider("bitbucket-server");
}

Event normalize(std::string_view event_key, std::string_view payload) {
  return conduit::testing::normalized("bitbucket-server", event_key, payload);
}

// A repo:refs_changed payload with the given changes (a JSON array's members).
std::string refsChangedOf(const std::string& changes) {
  return R"({"eventKey":"repo:refs_changed","actor":{"name":"pat","displayName":"Pat Doe"},)"
         R"("repository":{"slug":"payments","project":{"key":"SOC"},)"
         R"("links":{"self":[{"href":"https://bb.example.com/projects/SOC/repos/payments/browse"}]}},)"
         R"("changes":[)" +
         changes + "]}";
}

}  // namespace

TEST_CASE("bitbucket-server: the recorded merge - every field from the file") {
  const auto request = recordedRequest("bitbucket-dc/pr_merged");
  auto event = normalize(*dataCenter().eventType(request.lookup()), request.body);
  CHECK(event.kind == "pull_request.merged");
  CHECK(event.host == "Bitbucket Data Center");
  CHECK(event.repository == "PRJ/my-repo");
  CHECK(event.number == "3");
  CHECK(event.reference == "pull request #3");
  CHECK(event.title == "Develop");
  CHECK(event.body == "* added LICENSE\r\n* add COPYING file");
  CHECK(event.branch == "develop");
  CHECK(event.target_branch == "master");
  CHECK(event.url.empty());  // this payload has no links
  CHECK(event.author == "jcitizen");
  CHECK(event.commits.empty());
}

TEST_CASE("bitbucket-server: the recorded push - a branch - and no commit messages") {
  const auto request = recordedRequest("bitbucket-dc/repo_refs_changed.signed");
  auto event = normalize(*dataCenter().eventType(request.lookup()), request.body);
  CHECK(event.kind == "push");
  CHECK(event.repository == "PRJ/my-repo");
  CHECK(event.branch == "master");
  CHECK(event.author == "jcitizen");
  CHECK(event.commits.empty());  // the classic event carries none
  CHECK(event.tag.empty());
  CHECK(event.url.empty());
}

TEST_CASE("bitbucket-server: the recorded requests authenticate with their secret - no other") {
  for (const char* name : {"bitbucket-dc/pr_merged", "bitbucket-dc/repo_refs_changed.signed"}) {
    const auto request = recordedRequest(name);
    CHECK_MESSAGE(dataCenter().authenticate(request.lookup(), request.body, kRecordedSecret) ==
                      SignatureStatus::kValid,
                  name);
    CHECK_MESSAGE(dataCenter().authenticate(request.lookup(), request.body, "another secret") ==
                      SignatureStatus::kMismatch,
                  name);
    CHECK(dataCenter().deliveryId(request.lookup()) == "22222222-2222-2222-2222-222222222222");
    CHECK(dataCenter().recognizes(request.lookup()));
  }
}

TEST_CASE("bitbucket-server: a missing signature - SHA-1 - or another form is refused") {
  const std::string body = "{}";
  CHECK(dataCenter().authenticate(headers({}), body, kRecordedSecret) == SignatureStatus::kMissing);
  CHECK(dataCenter().authenticate(
            headers({{"X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567"}}), body,
            kRecordedSecret) == SignatureStatus::kMalformed);
  CHECK(dataCenter().authenticate(headers({{"X-Hub-Signature", "c90565fa"}}), body,
                                  kRecordedSecret) == SignatureStatus::kMalformed);
}

TEST_CASE("bitbucket-server: headers - event key - delivery id - diagnostics:ping") {
  auto h = headers({{"X-Event-Key", "pr:merged"}, {"x-request-id", "r-1"}});
  CHECK(dataCenter().eventType(h) == "pr:merged");
  CHECK(dataCenter().deliveryId(h) == "r-1");
  CHECK(dataCenter().isPing("diagnostics:ping"));
  CHECK_FALSE(dataCenter().isPing("pr:merged"));
  CHECK_FALSE(dataCenter().acceptsFormBodies());
  CHECK(dataCenter().headerNames().credential == "X-Hub-Signature");
  CHECK(dataCenter().headerNames().event == "X-Event-Key");
  CHECK(dataCenter().headerNames().delivery == "X-Request-Id");
  const auto& known = dataCenter().knownEvents();
  for (const char* key : {"pr:opened", "pr:merged", "pr:declined", "pr:deleted", "pr:modified",
                          "repo:refs_changed", "diagnostics:ping"}) {
    CHECK_MESSAGE(std::find(known.begin(), known.end(), key) != known.end(), key);
  }
}

TEST_CASE("bitbucket-server: recognizes Data Center - not Cloud - not GitHub") {
  CHECK(dataCenter().recognizes(headers({{"X-Event-Key", "pr:merged"}, {"X-Request-Id", "r"}})));
  // Without X-Request-Id it is still Data Center's, to refuse for lacking it.
  CHECK(dataCenter().recognizes(headers({{"X-Event-Key", "pr:merged"}})));
  CHECK_FALSE(dataCenter().recognizes(headers({{"X-Request-Id", "r"}})));
  // Cloud's marks make it Cloud's, whatever else it carries.
  CHECK_FALSE(dataCenter().recognizes(
      headers({{"X-Event-Key", "repo:push"}, {"X-Request-Id", "r"}, {"X-Hook-UUID", "{h}"}})));
  const auto request = recordedRequest("bitbucket-dc/pr_merged");
  CHECK_FALSE(conduit::testing::provider("github").recognizes(request.lookup()));
  CHECK_FALSE(conduit::testing::provider("bitbucket").recognizes(request.lookup()));
  CHECK(conduit::providers::foreignSender(conduit::testing::provider("github"), request.lookup()) ==
        &dataCenter());
  CHECK(conduit::providers::foreignSender(conduit::testing::provider("bitbucket"),
                                          request.lookup()) == &dataCenter());
}

TEST_CASE("bitbucket-server: repo paths are PROJECT/repo or ~user/repo") {
  for (const char* good : {"SOC/payments", "~jcitizen/scratch"}) {
    CHECK_MESSAGE(!conduit::providers::repoPathProblem(dataCenter(), good).has_value(), good);
  }
  for (const char* bad : {"SOC", "SOC/", "/payments", "SOC/payments/extra", "~/scratch"}) {
    auto problem = conduit::providers::repoPathProblem(dataCenter(), bad);
    REQUIRE_MESSAGE(problem.has_value(), bad);
    CHECK(problem->find("PROJECT/repo") != std::string::npos);
    CHECK(problem->find("Bitbucket Data Center") != std::string::npos);
  }
}

TEST_CASE("bitbucket-server: opened - declined - deleted - other pull request events") {
  const std::string pr =
      R"({"actor":{"name":"ann","displayName":"Ann Lee"},"pullRequest":{"id":12,)"
      R"("title":"SOC-1 t","fromRef":{"displayId":"feature/SOC-1"},)"
      R"("toRef":{"displayId":"main","repository":{"slug":"pay","project":{"key":"SOC"}}},)"
      R"("links":{"self":[{"href":"https://bb.example.com/projects/SOC/repos/pay/pull-requests/12"}]}}})";
  auto withState = [&](const std::string& state) {
    std::string body = pr;
    body.insert(body.find(R"("title")"), R"("state":")" + state + R"(",)");
    return body;
  };
  auto opened = normalize("pr:opened", withState("OPEN"));
  CHECK(opened.kind == "pull_request.opened");
  CHECK(opened.body.empty());  // no description
  CHECK(opened.author == "ann");
  CHECK(opened.repository == "SOC/pay");
  CHECK(opened.url == "https://bb.example.com/projects/SOC/repos/pay/pull-requests/12");
  CHECK(opened.reference == "pull request #12");
  CHECK(opened.branch == "feature/SOC-1");
  CHECK(opened.target_branch == "main");
  auto declined = normalize("pr:declined", withState("DECLINED"));
  CHECK(normalize("pr:merged", withState("OPEN")).kind == "pull_request.unconfirmed");
  CHECK(normalize("pr:closed", withState("DECLINED")).kind == "pull_request.unconfirmed");
  CHECK(declined.kind == "pull_request.closed");
  CHECK(declined.title == "SOC-1 t");
  CHECK(normalize("pr:deleted", pr).kind == "pull_request.deleted");
  CHECK(normalize("pr:modified", pr).kind == "pull_request.modified");
  CHECK(normalize("pr:from_ref_updated", pr).kind == "pull_request.from_ref_updated");
  CHECK(normalize("pr:reviewer:approved", pr).kind == "pull_request.reviewer_approved");
  CHECK(normalize("pr:comment:added", pr).kind == "pull_request.comment_added");
  auto null_description = normalize("pr:merged", R"({"pullRequest":{"description":null}})");
  CHECK(null_description.body.empty());
}

TEST_CASE("bitbucket-server: other events keep their key - a non-object payload is an error") {
  auto comment =
      normalize("repo:comment:added", R"({"repository":{"slug":"pay","project":{"key":"SOC"}}})");
  CHECK(comment.kind == "repo.comment_added");
  CHECK(comment.repository == "SOC/pay");
  CHECK(normalize("mirror:repo_synchronized", "{}").kind == "mirror.repo_synchronized");
  CHECK(normalize("project:modified", "{}").kind == "project.modified");
  CHECK(normalize("repo:Made-Up:key", "{}").kind == "repo.made_up_key");  // lower case, `_`
  std::string error;
  CHECK_FALSE(dataCenter().normalize("pr:merged", "\"x\"", error).has_value());
  CHECK(error == "the payload is not a JSON object");
}

TEST_CASE("bitbucket-server: refs changed - the first branch - tags only - the repository page") {
  auto push = normalize(
      "repo:refs_changed",
      refsChangedOf(R"({"ref":{"id":"refs/tags/v1","displayId":"v1","type":"TAG"},"type":"ADD"},)"
                    R"({"ref":{"id":"refs/heads/feature/SOC-1","displayId":"feature/SOC-1",)"
                    R"("type":"BRANCH"},"type":"UPDATE"},)"
                    R"({"ref":{"id":"refs/heads/main","displayId":"main","type":"BRANCH"}})"));
  CHECK(push.kind == "push");
  CHECK(push.branch == "feature/SOC-1");
  CHECK(push.repository == "SOC/payments");
  CHECK(push.url == "https://bb.example.com/projects/SOC/repos/payments/browse");
  CHECK(push.author == "pat");
  CHECK(push.commits.empty());
  CHECK(push.tag.empty());

  auto tag = normalize(
      "repo:refs_changed",
      refsChangedOf(
          R"({"ref":{"id":"refs/tags/v2.0.0","displayId":"v2.0.0","type":"TAG"},"type":"ADD"})"));
  CHECK(tag.kind == "tag");
  CHECK(tag.tag == "v2.0.0");
  CHECK(tag.branch.empty());

  // Only refId (an older payload): the type from the ref's name.
  auto by_ref_id = normalize("repo:refs_changed", refsChangedOf(R"({"refId":"refs/tags/v3"})"));
  CHECK(by_ref_id.kind == "tag");
  CHECK(by_ref_id.tag == "v3");
  CHECK(normalize("repo:refs_changed", "{}").kind == "push");
}

TEST_CASE("bitbucket-server: a deleted tag or branch triggers nothing") {
  auto push = [](const std::string& change) {
    return normalize("repo:refs_changed", R"({"actor":{"name":"ann"},"changes":[)" + change + "]}");
  };
  auto tag = push(R"({"ref":{"id":"refs/tags/SOC-7-rc1","displayId":"SOC-7-rc1","type":"TAG"},)"
                  R"("fromHash":"abc","toHash":"0000000000000000000000000000000000000000",)"
                  R"("type":"DELETE"})");
  CHECK(tag.kind == "tag.deleted");
  CHECK(tag.tag.empty());
  auto branch = push(R"({"ref":{"id":"refs/heads/old","displayId":"old","type":"BRANCH"},)"
                     R"("type":"DELETE"})");
  CHECK(branch.kind == "push.deleted");
  CHECK(branch.branch.empty());
}
