#include "providers/bitbucket_provider.hpp"

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

const conduit::providers::Provider& cloud() {
  return conduit::testing::provider("bitbucket");
}

Event normalize(std::string_view event_key, std::string_view payload) {
  return conduit::testing::normalized("bitbucket", event_key, payload);
}

// A repo:push payload with the given changes (a JSON array's members).
std::string pushOf(const std::string& changes) {
  return R"({"actor":{"nickname":"pat","display_name":"Pat Doe"},)"
         R"("repository":{"full_name":"acme/payments"},"push":{"changes":[)" +
         changes + "]}}";
}

}  // namespace

TEST_CASE("bitbucket: the recorded merge - every field from the file") {
  const auto request = recordedRequest("bitbucket-cloud/pullrequest_fulfilled.go-scm");
  auto event = normalize(*cloud().eventType(request.lookup()), request.body);
  CHECK(event.kind == "pull_request.merged");
  CHECK(event.host == "Bitbucket Cloud");
  CHECK(event.repository == "brydzewski/foo");
  CHECK(event.number == "1");
  CHECK(event.reference == "pull request #1");
  CHECK(event.title == "Awesome new feature");
  CHECK(event.body == "made some changes");
  CHECK(event.branch == "develop");
  CHECK(event.target_branch == "master");
  CHECK(event.url == "https://bitbucket.org/brydzewski/foo/pull-requests/1");
  CHECK(event.author == "brydzewski");  // the actor: who merged
  CHECK(event.commits.empty());
  CHECK(event.tag.empty());
}

TEST_CASE("bitbucket: the recorded push - its commit - branch and compare page") {
  const auto request = recordedRequest("bitbucket-cloud/repo_push.go-scm");
  auto event = normalize(*cloud().eventType(request.lookup()), request.body);
  CHECK(event.kind == "push");
  CHECK(event.repository == "brydzewski/foo");
  CHECK(event.branch == "master");
  CHECK(event.url ==
        "https://bitbucket.org/brydzewski/foo/branches/compare/"
        "141977fedf5cf35aa290ac87d4b5177ac4cd9de1..40e7580cf11311d84a6e5e97e2cbba6df1675750");
  CHECK(event.author == "brydzewski");
  REQUIRE(event.commits.size() == 1);
  CHECK(event.commits[0].id == "141977fedf5cf35aa290ac87d4b5177ac4cd9de1");
  CHECK(event.commits[0].message == "Update README\n");
  CHECK(event.commits[0].url ==
        "https://bitbucket.org/brydzewski/foo/commits/141977fedf5cf35aa290ac87d4b5177ac4cd9de1");
  CHECK(event.commits[0].author == "Brad Rydzewski");
  CHECK(event.tag.empty());
}

TEST_CASE("bitbucket: the recorded requests authenticate with their secret - and no other") {
  for (const char* name :
       {"bitbucket-cloud/pullrequest_fulfilled.go-scm", "bitbucket-cloud/repo_push.go-scm"}) {
    const auto request = recordedRequest(name);
    CHECK_MESSAGE(cloud().authenticate(request.lookup(), request.body, kRecordedSecret) ==
                      SignatureStatus::kValid,
                  name);
    CHECK_MESSAGE(cloud().authenticate(request.lookup(), request.body, "another secret") ==
                      SignatureStatus::kMismatch,
                  name);
    CHECK_MESSAGE(cloud().authenticate(request.lookup(), request.body + " ", kRecordedSecret) ==
                      SignatureStatus::kMismatch,
                  name);
    CHECK(cloud().deliveryId(request.lookup()) == "11111111-1111-1111-1111-111111111111");
    CHECK(cloud().recognizes(request.lookup()));
  }
}

TEST_CASE("bitbucket: a missing signature - SHA-1 - or another form is refused") {
  const std::string body = "{}";
  CHECK(cloud().authenticate(headers({}), body, kRecordedSecret) == SignatureStatus::kMissing);
  CHECK(cloud().authenticate(headers({{"X-Hub-Signature", ""}}), body, kRecordedSecret) ==
        SignatureStatus::kMissing);
  CHECK(cloud().authenticate(
            headers({{"X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567"}}), body,
            kRecordedSecret) == SignatureStatus::kMalformed);
  CHECK(cloud().authenticate(headers({{"X-Hub-Signature", "sha256=xyz"}}), body, kRecordedSecret) ==
        SignatureStatus::kMalformed);
  // GitHub's header is not Bitbucket's.
  CHECK(cloud().authenticate(headers({{"X-Hub-Signature-256", "sha256=00"}}), body,
                             kRecordedSecret) == SignatureStatus::kMissing);
}

TEST_CASE("bitbucket: headers - event key - delivery id - no ping - its refusals' names") {
  auto h = headers({{"x-event-key", "repo:push"}, {"X-Request-UUID", "r-1"}});
  CHECK(cloud().eventType(h) == "repo:push");
  CHECK(cloud().deliveryId(h) == "r-1");
  // X-Hook-UUID names the webhook, not the delivery.
  CHECK_FALSE(cloud().deliveryId(headers({{"X-Hook-UUID", "{h}"}})).has_value());
  CHECK_FALSE(cloud().isPing("diagnostics:ping"));
  CHECK_FALSE(cloud().isPing("repo:push"));
  CHECK_FALSE(cloud().acceptsFormBodies());
  CHECK(cloud().headerNames().credential == "X-Hub-Signature");
  CHECK(cloud().headerNames().event == "X-Event-Key");
  CHECK(cloud().headerNames().delivery == "X-Request-UUID");
  const auto& known = cloud().knownEvents();
  for (const char* key : {"pullrequest:fulfilled", "pullrequest:created", "pullrequest:rejected",
                          "pullrequest:updated", "pullrequest:comment_created", "repo:push"}) {
    CHECK_MESSAGE(std::find(known.begin(), known.end(), key) != known.end(), key);
  }
}

TEST_CASE("bitbucket: recognizes Cloud - not Data Center - not GitHub") {
  CHECK(cloud().recognizes(headers({{"X-Event-Key", "repo:push"}, {"X-Request-UUID", "r"}})));
  CHECK(cloud().recognizes(headers({{"X-Event-Key", "repo:push"}, {"X-Hook-UUID", "{h}"}})));
  CHECK_FALSE(cloud().recognizes(headers({{"X-Event-Key", "pr:merged"}, {"X-Request-Id", "r"}})));
  CHECK_FALSE(cloud().recognizes(headers({{"X-Request-UUID", "r"}})));
  CHECK_FALSE(
      cloud().recognizes(headers({{"X-GitHub-Event", "push"}, {"X-GitHub-Delivery", "d"}})));

  const auto dc = recordedRequest("bitbucket-dc/pr_merged");
  CHECK_FALSE(cloud().recognizes(dc.lookup()));
  const auto cloud_request = recordedRequest("bitbucket-cloud/pullrequest_fulfilled.go-scm");
  CHECK_FALSE(conduit::testing::provider("github").recognizes(cloud_request.lookup()));
  CHECK_FALSE(conduit::testing::provider("bitbucket-server").recognizes(cloud_request.lookup()));
  // A Cloud delivery to a GitHub or Data Center hook comes from Bitbucket Cloud.
  CHECK(conduit::providers::foreignSender(conduit::testing::provider("github"),
                                          cloud_request.lookup()) == &cloud());
  CHECK(conduit::providers::foreignSender(conduit::testing::provider("bitbucket-server"),
                                          cloud_request.lookup()) == &cloud());
  CHECK(conduit::providers::foreignSender(cloud(), cloud_request.lookup()) == nullptr);
}

TEST_CASE("bitbucket: repo paths are workspace/repo_slug") {
  CHECK_FALSE(conduit::providers::repoPathProblem(cloud(), "acme/payments").has_value());
  for (const char* bad : {"acme", "acme/", "/payments", "acme/payments/extra"}) {
    auto problem = conduit::providers::repoPathProblem(cloud(), bad);
    REQUIRE_MESSAGE(problem.has_value(), bad);
    CHECK(problem->find("workspace/repo_slug") != std::string::npos);
    CHECK(problem->find("Bitbucket Cloud") != std::string::npos);
  }
}

TEST_CASE("bitbucket: created - declined - updated - other pull request events") {
  const std::string pr =
      R"({"actor":{"nickname":"ann","display_name":"Ann Lee"},"repository":{"full_name":"a/b"},)"
      R"("pullrequest":{"id":7,"title":"SOC-1 t","description":null,)"
      R"("source":{"branch":{"name":"feature/SOC-1"}},"destination":{"branch":{"name":"main"}},)"
      R"("links":{"html":{"href":"https://bitbucket.org/a/b/pull-requests/7"}}}})";
  auto withState = [&](const std::string& state) {
    return R"({"actor":{"nickname":"ann","display_name":"Ann Lee"},"repository":{"full_name":"a/b"},)"
           R"("pullrequest":{"id":7,"title":"SOC-1 t","description":null,"state":")" +
           state +
           R"(","source":{"branch":{"name":"feature/SOC-1"}},"destination":{"branch":{"name":"main"}},)"
           R"("links":{"html":{"href":"https://bitbucket.org/a/b/pull-requests/7"}}}})";
  };
  auto created = normalize("pullrequest:created", withState("OPEN"));
  CHECK(created.kind == "pull_request.opened");
  CHECK(created.body.empty());  // a null description
  CHECK(created.author == "ann");
  CHECK(created.reference == "pull request #7");
  CHECK(created.branch == "feature/SOC-1");
  auto declined = normalize("pullrequest:rejected", withState("DECLINED"));
  CHECK(declined.kind == "pull_request.closed");
  CHECK(declined.title == "SOC-1 t");
  CHECK(declined.url == "https://bitbucket.org/a/b/pull-requests/7");
  CHECK(normalize("pullrequest:updated", pr).kind == "pull_request.updated");
  CHECK(normalize("pullrequest:comment_created", pr).kind == "pull_request.comment_created");
  CHECK(normalize("pullrequest:changes_request_created", pr).kind ==
        "pull_request.changes_request_created");
  // No nickname (a payload of an older API): the display name.
  auto named = normalize("pullrequest:fulfilled",
                         R"({"actor":{"display_name":"Ann Lee"},"pullrequest":{"id":1}})");
  CHECK(named.author == "Ann Lee");
}

TEST_CASE("bitbucket: other events keep their key - a non-object payload is an error") {
  auto fork = normalize("repo:fork", R"({"repository":{"full_name":"a/b"}})");
  CHECK(fork.kind == "repo.fork");
  CHECK(fork.repository == "a/b");
  CHECK(normalize("issue:comment_created", "{}").kind == "issue.comment_created");
  CHECK(normalize("repo:commit_status_updated", "{}").kind == "repo.commit_status_updated");
  CHECK(normalize("Repo:Made-Up", "{}").kind == "repo.made_up");  // lower case, `_`
  std::string error;
  CHECK_FALSE(cloud().normalize("repo:push", "[1]", error).has_value());
  CHECK(error == "the payload is not a JSON object");
}

TEST_CASE("bitbucket: a push lists its commits oldest first - Bitbucket sends newest first") {
  auto event = normalize("repo:push", pushOf(R"({"new":{"type":"branch","name":"main"},)"
                                             R"("links":{"html":{"href":"https://x/compare"}},)"
                                             R"("truncated":false,"commits":[)"
                                             R"({"hash":"c3","message":"SOC-3 third"},)"
                                             R"({"hash":"c2","message":"SOC-2 second"},)"
                                             R"({"hash":"c1","message":"SOC-1 first"}]})"));
  CHECK(event.kind == "push");
  CHECK(event.branch == "main");
  CHECK(event.url == "https://x/compare");
  CHECK(event.author == "pat");
  REQUIRE(event.commits.size() == 3);
  CHECK(event.commits[0].id == "c1");
  CHECK(event.commits[1].id == "c2");
  CHECK(event.commits[2].id == "c3");
}

TEST_CASE("bitbucket: a truncated push carries the 5 commits Bitbucket sent") {
  std::string commits;
  for (int i = 9; i >= 5; --i) {
    if (!commits.empty()) commits += ",";
    commits +=
        R"({"hash":"c)" + std::to_string(i) + R"(","message":"SOC-)" + std::to_string(i) + R"("})";
  }
  auto event = normalize("repo:push", pushOf(R"({"new":{"type":"branch","name":"main"},)"
                                             R"("truncated":true,"commits":[)" +
                                             commits + "]}"));
  REQUIRE(event.commits.size() == 5);
  CHECK(event.commits.front().message == "SOC-5");
  CHECK(event.commits.back().message == "SOC-9");
}

TEST_CASE("bitbucket: a push of several changes - the first branch - every branch's commits") {
  auto event = normalize(
      "repo:push",
      pushOf(R"({"new":{"type":"tag","name":"v1.0"},"commits":[{"hash":"t","message":"SOC-9"}]},)"
             R"({"new":{"type":"branch","name":"feature/SOC-1",)"
             R"("links":{"html":{"href":"https://x/branch/feature/SOC-1"}}},)"
             R"("created":true,"commits":[{"hash":"a","message":"SOC-1 a",)"
             R"("author":{"raw":"Ann Lee <ann@example.com>"}}]},)"
             R"({"new":{"type":"branch","name":"main"},"commits":[{"hash":"b","message":"SOC-2 b",)"
             R"("author":{"raw":"Bob <bob@example.com>","user":{"display_name":"Bob Ray"}}},)"
             R"({"hash":"no message"}]},)"
             R"({"new":null,"old":{"type":"branch","name":"gone"},"closed":true,"commits":[]})"));
  CHECK(event.kind == "push");
  CHECK(event.branch == "feature/SOC-1");
  CHECK(event.url == "https://x/branch/feature/SOC-1");  // a new branch: no compare page
  CHECK(event.tag.empty());
  REQUIRE(event.commits.size() == 2);  // the tag's commit is not a branch's
  CHECK(event.commits[0].message == "SOC-1 a");
  CHECK(event.commits[0].author == "Ann Lee");  // the git author line without its address
  CHECK(event.commits[1].message == "SOC-2 b");
  CHECK(event.commits[1].author == "Bob Ray");
}

TEST_CASE("bitbucket: a push of tags only is `tag` - a deleted branch is still a push") {
  auto tag = normalize("repo:push",
                       pushOf(R"({"new":{"type":"tag","name":"v2.0.0",)"
                              R"("links":{"html":{"href":"https://x/commits/tag/v2.0.0"}}},)"
                              R"("created":true,"commits":[]},)"
                              R"({"new":{"type":"annotated_tag","name":"v2.0.1"},"commits":[]})"));
  CHECK(tag.kind == "tag");
  CHECK(tag.tag == "v2.0.0");
  CHECK(tag.url == "https://x/commits/tag/v2.0.0");
  CHECK(tag.branch.empty());
  CHECK(tag.commits.empty());
  CHECK(tag.author == "pat");

  // A deleted branch or tag names nothing to act on.
  auto deleted =
      normalize("repo:push", pushOf(R"({"new":null,"old":{"type":"branch","name":"old"},)"
                                    R"("closed":true,"commits":[]})"));
  CHECK(deleted.kind == "push.deleted");
  CHECK(deleted.branch.empty());
  CHECK(deleted.commits.empty());
  auto deleted_tag =
      normalize("repo:push", pushOf(R"({"new":null,"old":{"type":"tag","name":"SOC-7-rc1"},)"
                                    R"("closed":true,"commits":[]})"));
  CHECK(deleted_tag.kind == "tag.deleted");
  CHECK(deleted_tag.tag.empty());
  CHECK(normalize("repo:push", "{}").kind == "push");
}

TEST_CASE("bitbucket: the event key is outside the signature - the signed state must agree") {
  // A captured, signed body of an opened pull request, resent under pullrequest:fulfilled.
  const std::string opened =
      R"({"pullrequest":{"id":7,"title":"SOC-1","state":"OPEN"},"repository":{"full_name":"a/b"}})";
  CHECK(normalize("pullrequest:fulfilled", opened).kind == "pull_request.unconfirmed");
  CHECK(normalize("pullrequest:rejected", opened).kind == "pull_request.unconfirmed");
  CHECK(normalize("pullrequest:created", opened).kind == "pull_request.opened");
  // A made-up key that would spell a meaningful kind means nothing.
  CHECK(normalize("pullrequest:merged", opened).kind == "pull_request.unconfirmed");
  CHECK(normalize("push", opened).kind == "unconfirmed.push");
}
