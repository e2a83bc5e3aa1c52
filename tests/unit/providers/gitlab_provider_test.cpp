#include "providers/gitlab_provider.hpp"
#include "provider_test_support.hpp"

#include <string>

#include <doctest/doctest.h>

using conduit::providers::Event;
using conduit::providers::SignatureStatus;
using conduit::testing::headers;
using conduit::testing::kRecordedSecret;
using conduit::testing::recordedRequest;

namespace {

const conduit::providers::Provider& gitlab() {
  return conduit::testing::provider("gitlab");
}

Event normalize(std::string_view type, std::string_view payload) {
  return conduit::testing::normalized("gitlab", type, payload);
}

// The recorded request NAME, normalized with the event its X-Gitlab-Event names.
Event normalizeRecorded(const std::string& name) {
  auto request = recordedRequest("gitlab/" + name);
  auto lookup = request.lookup();  // the event type's view points into it
  auto type = gitlab().eventType(lookup);
  REQUIRE(type.has_value());
  return normalize(*type, request.body);
}

const char* const kRecorded[] = {"merge_request_merge.captured", "merge_request_open.docs",
                                 "push.docs", "release_create.docs", "tag_push.docs"};

}  // namespace

TEST_CASE("gitlab: the recorded requests authenticate with their secret - a wrong token does not") {
  for (const char* name : kRecorded) {
    auto request = recordedRequest(std::string("gitlab/") + name);
    auto lookup = request.lookup();
    CHECK_MESSAGE(gitlab().recognizes(lookup), name);
    CHECK_MESSAGE(
        gitlab().authenticate(lookup, request.body, kRecordedSecret) == SignatureStatus::kValid,
        name);
    CHECK_MESSAGE(
        gitlab().authenticate(lookup, request.body, "another secret") == SignatureStatus::kMismatch,
        name);
    // The token is the secret itself, not a signature of the body: another body is as good.
    CHECK(gitlab().authenticate(lookup, "{}", kRecordedSecret) == SignatureStatus::kValid);
    CHECK(gitlab().deliveryId(lookup) == "f5e5f430-f57b-4e6e-9fac-d9128cd7232f");
  }
}

TEST_CASE("gitlab: a missing or empty token is missing - a prefix of the secret is a mismatch") {
  const std::string secret(kRecordedSecret);
  CHECK(gitlab().authenticate(headers({}), "{}", secret) == SignatureStatus::kMissing);
  CHECK(gitlab().authenticate(headers({{"X-Gitlab-Token", ""}}), "{}", secret) ==
        SignatureStatus::kMissing);
  CHECK(gitlab().authenticate(headers({{"x-gitlab-token", secret}}), "{}", secret) ==
        SignatureStatus::kValid);
  CHECK(gitlab().authenticate(headers({{"X-Gitlab-Token", secret.substr(0, 39)}}), "{}", secret) ==
        SignatureStatus::kMismatch);
  CHECK(gitlab().authenticate(headers({{"X-Gitlab-Token", secret + "0"}}), "{}", secret) ==
        SignatureStatus::kMismatch);
  // A GitHub signature of the right secret is no token.
  CHECK(gitlab().authenticate(headers({{"X-Hub-Signature-256", "sha256=" + secret}}), "{}",
                              secret) == SignatureStatus::kMissing);
}

TEST_CASE("gitlab: header names for the route's refusals - no ping - no form bodies") {
  const auto& names = gitlab().headerNames();
  CHECK(names.credential == "X-Gitlab-Token");
  CHECK(names.credential_format.empty());  // so a wrong token reads "... does not match ..."
  CHECK(names.event == "X-Gitlab-Event");
  CHECK(names.delivery == "Idempotency-Key or X-Gitlab-Webhook-UUID");
  CHECK(gitlab().title() == "GitLab");
  CHECK_FALSE(gitlab().acceptsFormBodies());
  for (std::string_view event : gitlab().knownEvents())
    CHECK_FALSE(gitlab().isPing(event));
  CHECK_FALSE(gitlab().isPing("ping"));
  CHECK_FALSE(gitlab().isPing("Ping Hook"));
}

TEST_CASE("gitlab: Idempotency-Key is preferred - the UUID alone works - neither is missing") {
  CHECK(gitlab().deliveryId(headers(
            {{"Idempotency-Key", "key-1"}, {"X-Gitlab-Webhook-UUID", "uuid-1"}})) == "key-1");
  CHECK(gitlab().deliveryId(headers({{"X-Gitlab-Webhook-UUID", "uuid-1"}})) == "uuid-1");
  CHECK(gitlab().deliveryId(headers({{"Idempotency-Key", ""}, {"X-Gitlab-Webhook-UUID", "u"}})) ==
        "u");
  CHECK_FALSE(gitlab().deliveryId(headers({})).has_value());
  // X-Gitlab-Event-UUID is shared by every hook a single event fires: not a delivery's id.
  CHECK_FALSE(gitlab().deliveryId(headers({{"X-Gitlab-Event-UUID", "e"}})).has_value());
  CHECK(gitlab().eventType(headers({{"X-Gitlab-Event", "Push Hook"}})) == "Push Hook");
  CHECK_FALSE(gitlab().eventType(headers({{"X-Gitlab-Event", ""}})).has_value());
  CHECK_FALSE(gitlab().eventType(headers({{"X-GitHub-Event", "push"}})).has_value());
}

TEST_CASE("gitlab: recognizes X-Gitlab-Event - a GitHub delivery is not GitLab's, and back") {
  CHECK(gitlab().recognizes(headers({{"X-Gitlab-Event", "Merge Request Hook"}})));
  CHECK_FALSE(gitlab().recognizes(headers({{"X-Gitlab-Token", "t"}})));
  CHECK_FALSE(gitlab().recognizes(headers({{"X-GitHub-Event", "push"}})));
  CHECK_FALSE(gitlab().recognizes(headers({})));

  const auto& github = conduit::testing::provider("github");
  auto request = recordedRequest("gitlab/merge_request_merge.captured");
  CHECK(conduit::providers::foreignSender(github, request.lookup()) == &gitlab());
  CHECK(conduit::providers::foreignSender(gitlab(), request.lookup()) == nullptr);
  CHECK(conduit::providers::foreignSender(gitlab(), headers({{"X-GitHub-Event", "push"}})) ==
        &github);
}

TEST_CASE("gitlab: repo paths - group/project and nested subgroups - nothing else") {
  for (const char* good : {"gitlab-org/hello-world", "acme/platform/payments", "a/b/c/d/e/f",
                           "my.group/my_project-2"}) {
    CHECK_FALSE_MESSAGE(conduit::providers::repoPathProblem(gitlab(), good).has_value(), good);
  }
  for (const char* bad :
       {"hello-world", "acme/", "/payments", "acme//payments", "acme/platform/", "/"}) {
    auto problem = conduit::providers::repoPathProblem(gitlab(), bad);
    REQUIRE_MESSAGE(problem.has_value(), bad);
    CHECK(*problem ==
          "must be group/project or group/subgroup/project, as in GitLab's address of the "
          "project");
  }
  // The generic rules come first, as for every host.
  CHECK(conduit::providers::repoPathProblem(gitlab(), "") == "is required");
  CHECK(conduit::providers::repoPathProblem(gitlab(), "acme/pay ments")->find("no spaces") !=
        std::string::npos);
}

TEST_CASE("gitlab events: the recorded merged merge request - every field") {
  auto event = normalizeRecorded("merge_request_merge.captured");
  CHECK(event.kind == "pull_request.merged");
  CHECK(event.host == "GitLab");
  CHECK(event.repository == "gitlab-org/hello-world");
  CHECK(event.number == "1");
  CHECK(event.reference == "merge request !1");
  CHECK(event.title == "update readme");
  CHECK(event.body == "adding build instructions to readme");
  CHECK(event.branch == "feature");
  CHECK(event.target_branch == "master");
  CHECK(event.url == "https://gitlab.com/gitlab-org/hello-world/merge_requests/1");
  CHECK(event.author == "sytses");  // username, not the name "Sid Sijbrandij"
  CHECK(event.commits.empty());
  CHECK(event.tag.empty());
  CHECK(event.release_name.empty());
  CHECK(event.release_body.empty());
  CHECK(event.released_at.empty());
}

TEST_CASE("gitlab events: the documented opened merge request - every field") {
  auto event = normalizeRecorded("merge_request_open.docs");
  CHECK(event.kind == "pull_request.opened");
  CHECK(event.host == "GitLab");
  CHECK(event.repository == "gitlabhq/gitlab-test");
  CHECK(event.number == "1");
  CHECK(event.reference == "merge request !1");
  CHECK(event.title == "MS-Viewport");
  CHECK(event.body.empty());  // "description": ""
  CHECK(event.branch == "ms-viewport");
  CHECK(event.target_branch == "master");
  CHECK(event.url == "http://example.com/diaspora/merge_requests/1");
  CHECK(event.author == "user1");
  CHECK(event.commits.empty());
}

TEST_CASE("gitlab events: the documented push - commits oldest first - compare page") {
  auto event = normalizeRecorded("push.docs");
  CHECK(event.kind == "push");
  CHECK(event.host == "GitLab");
  CHECK(event.repository == "mike/diaspora");
  CHECK(event.branch == "master");
  CHECK(event.author == "jsmith");
  CHECK(event.url ==
        "http://example.com/mike/diaspora/-/compare/"
        "95790bf891e76fee5e1747ab589903a6a1f80f22..."
        "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
  REQUIRE(event.commits.size() == 2);
  CHECK(event.commits[0].id == "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327");
  CHECK(event.commits[0].message ==
        "Merge branch 'some-feature' into 'master'\n\nRelease v1.0.0\n\n"
        "See merge request jsmith/example!1");
  CHECK(event.commits[0].url ==
        "http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327");
  CHECK(event.commits[0].author == "Jordi Mallach");
  CHECK(event.commits[1].id == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
  CHECK(event.commits[1].message == "fixed readme\n");
  CHECK(event.commits[1].url ==
        "http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
  CHECK(event.commits[1].author == "GitLab dev user");
  CHECK(event.number.empty());
  CHECK(event.reference.empty());
  CHECK(event.title.empty());
  CHECK(event.tag.empty());
  CHECK(event.target_branch.empty());
}

TEST_CASE("gitlab events: the documented release - create is release.published") {
  auto event = normalizeRecorded("release_create.docs");
  CHECK(event.kind == "release.published");
  CHECK(event.host == "GitLab");
  CHECK(event.repository == "exm-namespace/example-project");
  CHECK(event.release_name == "1.0.0");
  CHECK(event.tag == "1.0.0");
  CHECK(event.release_body == "Release!");
  CHECK(event.released_at == "2021-02-25 21:23:34 UTC");
  CHECK(event.url == "http://example.com/exm-namespace/example-project/-/releases/1.0.0");
  CHECK(event.author.empty());  // GitLab's Release Hook names nobody
  CHECK(event.commits.empty());
  CHECK(event.title.empty());
}

TEST_CASE("gitlab events: the documented tag push - the tag's page - the pusher") {
  auto event = normalizeRecorded("tag_push.docs");
  CHECK(event.kind == "tag");
  CHECK(event.host == "GitLab");
  CHECK(event.repository == "jsmith/example");
  CHECK(event.tag == "v1.0.0");
  CHECK(event.url == "http://example.com/jsmith/example/-/tags/v1.0.0");
  CHECK(event.author == "jsmith");
  CHECK(event.branch.empty());
  CHECK(event.commits.empty());
}

TEST_CASE("gitlab events: merge request actions - close - reopen - update - approved") {
  auto kindOf = [](const std::string& action) {
    return normalize(
               "Merge Request Hook",
               R"({"object_attributes":{"iid":7,"state":"opened","action":")" + action + R"("}})")
        .kind;
  };
  CHECK(kindOf("merge") == "pull_request.merged");
  CHECK(kindOf("open") == "pull_request.opened");
  CHECK(kindOf("close") == "pull_request.closed");
  CHECK(kindOf("reopen") == "pull_request.reopen");
  CHECK(kindOf("update") == "pull_request.update");
  CHECK(kindOf("approved") == "pull_request.approved");
  // A value that would spell another kind cannot: "close.merged" is not "closed".
  CHECK(kindOf("x.merged") == "pull_request.x_merged");
}

TEST_CASE("gitlab events: the Test button's merge request - no action - is a test, never a merge") {
  // GitLab's webhook "Test" sends the project's first merge request as it is, without an action.
  auto byState = [](const std::string& state) {
    return normalize("Merge Request Hook", R"({"object_attributes":{"state":")" + state + R"("}})")
        .kind;
  };
  CHECK(byState("merged") == "pull_request.test");
  CHECK(byState("opened") == "pull_request.test");
  CHECK(normalize("Merge Request Hook", "{}").kind == "pull_request.test");
}

TEST_CASE("gitlab events: the Test button's tag push - a branch's ref - is no tag") {
  auto test = normalize("Tag Push Hook", R"({"ref":"refs/heads/main","after":"abc"})");
  CHECK(test.kind == "tag.test");
  CHECK(test.tag.empty());
}

TEST_CASE("gitlab events: a merge request with a null description - no project - no user") {
  auto event = normalize("Merge Request Hook", R"({"object_attributes":{"iid":12,
      "action":"merge","title":"SOC-12: login","description":null,"source_branch":"f/SOC-12",
      "target_branch":"main","url":"https://gitlab.example/g/p/-/merge_requests/12"},
      "user":{"name":"Ann Lee"}})");
  CHECK(event.kind == "pull_request.merged");
  CHECK(event.body.empty());
  CHECK(event.repository.empty());
  CHECK(event.number == "12");
  CHECK(event.reference == "merge request !12");
  CHECK(event.title == "SOC-12: login");
  CHECK(event.branch == "f/SOC-12");
  CHECK(event.author == "Ann Lee");  // no username: the name
  CHECK(normalize("Merge Request Hook", R"({"object_attributes":{"action":"merge"}})")
            .reference.empty());
}

TEST_CASE("gitlab events: a tag deleted is tag.deleted - it triggers nothing") {
  auto event = normalize("Tag Push Hook", R"({"ref":"refs/tags/v1.0.0",
      "before":"82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
      "after":"0000000000000000000000000000000000000000","user_username":"jsmith",
      "project":{"web_url":"http://example.com/jsmith/example",
      "path_with_namespace":"jsmith/example"},"commits":[]})");
  CHECK(event.kind == "tag.deleted");
  CHECK(event.tag == "v1.0.0");
  CHECK(event.url == "http://example.com/jsmith/example");  // the tag's page is gone
  CHECK(event.author == "jsmith");
  CHECK(event.repository == "jsmith/example");
}

TEST_CASE("gitlab events: a Push Hook of refs/tags/ is a tag - without a project no page") {
  auto tag = normalize("Push Hook", R"({"ref":"refs/tags/release/2.0","after":"82b3d5ae",
      "user_name":"John Smith","project":{"web_url":"https://gitlab.example/g/p"},
      "commits":[{"message":"SOC-1 x"}]})");
  CHECK(tag.kind == "tag");
  CHECK(tag.tag == "release/2.0");
  CHECK(tag.url == "https://gitlab.example/g/p/-/tags/release/2.0");
  CHECK(tag.author == "John Smith");  // no username: the name
  CHECK(tag.commits.empty());
  CHECK(tag.branch.empty());
  auto no_project = normalize("Tag Push Hook", R"({"ref":"refs/tags/v3","after":"1"})");
  CHECK(no_project.kind == "tag");
  CHECK(no_project.tag == "v3");
  CHECK(no_project.url.empty());
  CHECK(no_project.repository.empty());
}

TEST_CASE(
    "gitlab events: a new branch's push - its newest commit's page - a deleted branch is "
    "push.deleted") {
  auto created = normalize("Push Hook", R"({"ref":"refs/heads/feature/SOC-12",
      "before":"0000000000000000000000000000000000000000","after":"bbb",
      "project":{"web_url":"https://gitlab.example/g/p"},
      "commits":[{"id":"aaa","message":"SOC-12 a","url":"https://gitlab.example/c/aaa"},
                 {"id":"bbb","message":"SOC-13 b","url":"https://gitlab.example/c/bbb"},
                 {"id":"ccc"}, 5]})");
  CHECK(created.kind == "push");
  CHECK(created.branch == "feature/SOC-12");
  CHECK(created.url == "https://gitlab.example/c/bbb");
  REQUIRE(created.commits.size() == 2);  // one with no message and a non-object are left out
  CHECK(created.commits[0].message == "SOC-12 a");
  CHECK(created.commits[1].message == "SOC-13 b");
  CHECK(created.commits[1].author.empty());

  auto deleted = normalize("Push Hook", R"({"ref":"refs/heads/old","before":"aaa",
      "after":"0000000000000000000000000000000000000000",
      "project":{"web_url":"https://gitlab.example/g/p"},"commits":[]})");
  CHECK(deleted.kind == "push.deleted");  // nothing to trigger on
  CHECK(deleted.commits.empty());
  CHECK(deleted.url == "https://gitlab.example/g/p");
}

TEST_CASE("gitlab events: release actions - update and delete are not published") {
  auto kindOf = [](const std::string& action) {
    return normalize("Release Hook", R"({"action":")" + action + R"("})").kind;
  };
  CHECK(kindOf("create") == "release.published");
  CHECK(kindOf("update") == "release.updated");
  CHECK(kindOf("delete") == "release.deleted");
  CHECK(kindOf("Other Thing") == "release.other_thing");
  CHECK(normalize("Release Hook", "{}").kind == "release.unknown");
  auto with_user =
      normalize("Release Hook", R"({"action":"create","user":{"username":"rel","name":"R"}})");
  CHECK(with_user.author == "rel");
}

TEST_CASE("gitlab events: other events - lower case without Hook - with their action") {
  CHECK(normalize("Note Hook", R"({"object_attributes":{"action":"create"}})").kind ==
        "note.create");
  CHECK(normalize("Note Hook", "{}").kind == "note");
  CHECK(normalize("Wiki Page Hook", R"({"object_attributes":{"action":"update"}})").kind ==
        "wiki_page.update");
  CHECK(normalize("Pipeline Hook", R"({"object_attributes":{"status":"success"}})").kind ==
        "pipeline");
  CHECK(normalize("Confidential Issue Hook", "{}").kind == "confidential_issue");
  auto issue = normalize("Issue Hook", R"({"object_attributes":{"action":"close",
      "title":"SOC-1","description":"SOC-2"},"project":{"path_with_namespace":"g/p"}})");
  CHECK(issue.kind == "issue.close");
  CHECK(issue.title.empty());  // no fields: nothing for a trigger to find keys in
  CHECK(issue.repository == "g/p");
}

TEST_CASE("gitlab events: a made-up event header never reads as a kind that triggers") {
  CHECK(normalize("Push", "{}").kind == "gitlab_push");
  CHECK(normalize("Tag", "{}").kind == "gitlab_tag");
  CHECK(normalize("Release", R"({"object_attributes":{"action":"published"}})").kind ==
        "gitlab_release.published");
  CHECK(normalize("Pull Request Hook", R"({"object_attributes":{"action":"merged"}})").kind ==
        "gitlab_pull_request.merged");
  CHECK(normalize("pull_request.merged", "{}").kind == "pull_request_merged");
  CHECK(normalize("Push Event", "{}").kind == "push_event");  // old GitLab's "Test" button
}

TEST_CASE("gitlab events: a payload that is not a JSON object is an error") {
  std::string error;
  CHECK_FALSE(gitlab().normalize("Push Hook", "[1]", error).has_value());
  CHECK(error == "the payload is not a JSON object");
}
