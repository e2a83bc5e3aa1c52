#include "providers/gitea_provider.hpp"

#include <algorithm>
#include <string>

#include <doctest/doctest.h>

#include "crypto/digest.hpp"
#include "crypto/hex.hpp"
#include "provider_test_support.hpp"

using conduit::providers::Event;
using conduit::providers::SignatureStatus;
using conduit::testing::headers;
using conduit::testing::kRecordedSecret;
using conduit::testing::recordedRequest;

namespace {

const conduit::providers::Provider& gitea() {
  return conduit::testing::provider("gitea");
}

Event normalize(std::string_view type, std::string_view payload) {
  return conduit::testing::normalized("gitea", type, payload);
}

// A recorded request normalized with the event type of its own X-Gitea-Event.
Event normalizeRecorded(const conduit::testing::RecordedRequest& request) {
  auto type = gitea().eventType(request.lookup());
  REQUIRE(type.has_value());
  return normalize(*type, request.body);
}

std::string hexHmac(std::string_view secret, std::string_view body) {
  return conduit::crypto::toHex(conduit::crypto::hmacSha256(secret, body));
}

}  // namespace

TEST_CASE("gitea: the recorded merged pull request - every field from the file") {
  const auto request = recordedRequest("gitea/pull_request_merged.go-scm");
  const Event event = normalizeRecorded(request);
  CHECK(event.kind == "pull_request.merged");
  CHECK(event.host == "Gitea");
  CHECK(event.repository == "jcitizen/my-repo");
  CHECK(event.number == "1");
  CHECK(event.reference == "pull request #1");
  CHECK(event.title == "Add LICENSE File");
  CHECK(event.body == "Using a BSD License");
  CHECK(event.branch == "feature");
  CHECK(event.target_branch == "master");
  CHECK(event.url == "https://try.gitea.io/jcitizen/my-repo/pulls/1");
  CHECK(event.author == "jcitizen");  // merged_by
  CHECK(event.commits.empty());
  CHECK(event.tag.empty());
}

TEST_CASE("gitea: the recorded edited pull request is pull_request.edited") {
  const Event event = normalizeRecorded(recordedRequest("gitea/pull_request_edited.signed"));
  CHECK(event.kind == "pull_request.edited");
  CHECK(event.repository == "jcitizen/my-repo");
  CHECK(event.number == "1");
  CHECK(event.title == "Add LICENSE File");
  CHECK(event.body == "Using a BSD License");
  CHECK(event.branch == "feature");
  CHECK(event.target_branch == "master");
  CHECK(event.author == "jcitizen");  // sender: no merge
}

TEST_CASE("gitea: the recorded push - branch - commits - compare page and pusher") {
  const Event event = normalizeRecorded(recordedRequest("gitea/push.go-scm"));
  CHECK(event.kind == "push");
  CHECK(event.host == "Gitea");
  CHECK(event.repository == "gogits/hello-world");
  CHECK(event.branch == "master");
  REQUIRE(event.commits.size() == 1);
  CHECK(event.commits[0].id == "4522cbcefc20728a5b72b3a86af35e608622c514");
  CHECK(event.commits[0].message == "Updated readme\n");
  CHECK(event.commits[0].url ==
        "http://try.gitea.io/gogits/hello-world/commit/4522cbcefc20728a5b72b3a86af35e608622c514");
  CHECK(event.commits[0].author == "Unknwon");
  CHECK(event.url ==
        "http://try.gitea.io/gogits/hello-world/compare/"
        "9836a96a253cce25d17988fcf41b8c4205cf779f...4522cbcefc20728a5b72b3a86af35e"
        "608622c514");
  CHECK(event.author == "unknwon");
}

TEST_CASE("gitea: every recorded request authenticates with the test secret - not another") {
  for (const char* name : {"gitea/pull_request_merged.go-scm", "gitea/pull_request_edited.signed",
                           "gitea/push.go-scm"}) {
    const auto request = recordedRequest(name);
    CHECK_MESSAGE(gitea().authenticate(request.lookup(), request.body, kRecordedSecret) ==
                      SignatureStatus::kValid,
                  name);
    CHECK_MESSAGE(gitea().authenticate(request.lookup(), request.body, "another secret") ==
                      SignatureStatus::kMismatch,
                  name);
    CHECK_MESSAGE(gitea().authenticate(request.lookup(), request.body + " ", kRecordedSecret) ==
                      SignatureStatus::kMismatch,
                  name);
    CHECK(gitea().eventType(request.lookup()).has_value());
    CHECK(gitea().deliveryId(request.lookup()) == "ee8d97b4-1479-43f1-9cac-fbbd1b80da55");
  }
}

TEST_CASE("gitea: only X-Gitea-Signature counts - GitHub's and Gogs' copies do not") {
  const std::string body = R"({"ref":"refs/heads/main"})";
  const std::string hex = hexHmac(kRecordedSecret, body);
  CHECK(gitea().authenticate(headers({{"X-Gitea-Signature", hex}}), body, kRecordedSecret) ==
        SignatureStatus::kValid);
  CHECK(gitea().authenticate(headers({{"x-gitea-signature", hex}}), body, kRecordedSecret) ==
        SignatureStatus::kValid);
  CHECK(gitea().authenticate(
            headers({{"X-Hub-Signature-256", "sha256=" + hex}, {"X-Gogs-Signature", hex}}), body,
            kRecordedSecret) == SignatureStatus::kMissing);
  // Gitea sends the header empty when the hook has no secret.
  CHECK(gitea().authenticate(headers({{"X-Gitea-Signature", ""}}), body, kRecordedSecret) ==
        SignatureStatus::kMissing);
  // No prefix: GitHub's form of the same HMAC is malformed, and so is a short one.
  CHECK(gitea().authenticate(headers({{"X-Gitea-Signature", "sha256=" + hex}}), body,
                             kRecordedSecret) == SignatureStatus::kMalformed);
  CHECK(gitea().authenticate(headers({{"X-Gitea-Signature", hex.substr(0, 40)}}), body,
                             kRecordedSecret) == SignatureStatus::kMalformed);
}

TEST_CASE("gitea: a form body is checked against the JSON Gitea signed - so it can be told 415") {
  // Gitea signs the JSON and sends it percent-encoded in a form's `payload` field.
  const std::string json = R"({"ref":"refs/heads/main","x":"a b&c"})";
  const std::string form =
      "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%2C%22x%22%3A%22a+b%"
      "26c%22%7D";
  const std::string signature = hexHmac(kRecordedSecret, json);
  auto as_form = headers(
      {{"X-Gitea-Signature", signature}, {"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(gitea().authenticate(as_form, form, kRecordedSecret) == SignatureStatus::kValid);
  CHECK(gitea().authenticate(as_form, form, "another secret") == SignatureStatus::kMismatch);
  // The same body declared as JSON is not decoded: the signature must cover what was sent.
  auto as_json = headers({{"X-Gitea-Signature", signature}, {"Content-Type", "application/json"}});
  CHECK(gitea().authenticate(as_json, form, kRecordedSecret) == SignatureStatus::kMismatch);
  CHECK(gitea().authenticate(as_form, "other=1", kRecordedSecret) == SignatureStatus::kMismatch);
  CHECK_FALSE(gitea().acceptsFormBodies());
}

TEST_CASE("gitea: recognizes its own deliveries - not Forgejo's - and GitHub does not take them") {
  const auto gitea_request = recordedRequest("gitea/push.go-scm");
  const auto forgejo_request = recordedRequest("forgejo/push.docs");
  const auto& github = conduit::testing::provider("github");
  const auto& forgejo = conduit::testing::provider("forgejo");
  CHECK(gitea().recognizes(gitea_request.lookup()));
  CHECK_FALSE(gitea().recognizes(forgejo_request.lookup()));
  CHECK_FALSE(gitea().recognizes(headers({{"X-GitHub-Event", "push"}})));
  CHECK_FALSE(github.recognizes(gitea_request.lookup()));

  // A Gitea delivery to a GitHub hook is Gitea's; a Forgejo one to a Gitea hook is Forgejo's.
  CHECK(conduit::providers::foreignSender(github, gitea_request.lookup()) == &gitea());
  CHECK(conduit::providers::foreignSender(gitea(), forgejo_request.lookup()) == &forgejo);
  CHECK(conduit::providers::foreignSender(gitea(), gitea_request.lookup()) == nullptr);
  CHECK(conduit::providers::foreignSender(gitea(), headers({{"X-GitHub-Event", "push"}})) ==
        &github);
}

TEST_CASE("gitea: event and delivery headers - empty is missing - no ping") {
  auto h = headers({{"X-Gitea-Event", "release"}, {"X-Gitea-Delivery", "d-1"}});
  CHECK(gitea().eventType(h) == "release");
  CHECK(gitea().deliveryId(h) == "d-1");
  // GitHub's copies are not read.
  auto copies = headers({{"X-GitHub-Event", "release"}, {"X-GitHub-Delivery", "d-1"}});
  CHECK_FALSE(gitea().eventType(copies).has_value());
  CHECK_FALSE(gitea().deliveryId(copies).has_value());
  CHECK_FALSE(gitea().eventType(headers({{"X-Gitea-Event", ""}})).has_value());
  for (const char* type : {"push", "ping", "create"})
    CHECK_FALSE(gitea().isPing(type));
  const auto& names = gitea().headerNames();
  CHECK(names.credential == "X-Gitea-Signature");
  CHECK(names.event == "X-Gitea-Event");
  CHECK(names.delivery == "X-Gitea-Delivery");
}

TEST_CASE("gitea: repo paths are owner/repo - the message names Gitea") {
  CHECK_FALSE(gitea().repoPathProblem("jcitizen/my-repo").has_value());
  for (const char* bad : {"my-repo", "jcitizen/", "/my-repo", "group/sub/my-repo"}) {
    auto problem = conduit::providers::repoPathProblem(gitea(), bad);
    REQUIRE_MESSAGE(problem.has_value(), bad);
    CHECK(*problem == "must be owner/repo, as in Gitea's address of the repository");
  }
}

TEST_CASE("gitea: known events are X-Gitea-Event's values") {
  const auto& known = gitea().knownEvents();
  for (const char* event : {"push", "pull_request", "release", "create", "issue_comment",
                            "pull_request_approved", "wiki", "repository"}) {
    CHECK_MESSAGE(std::find(known.begin(), known.end(), event) != known.end(), event);
  }
  // The settings page's finer types are sent under these names, never themselves.
  CHECK(std::find(known.begin(), known.end(), "pull_request_sync") == known.end());
}

TEST_CASE("gitea events: closed without merge - opened - synchronized") {
  auto closed = normalize("pull_request", R"({"action":"closed","number":3,"pull_request":{
      "number":3,"merged":false,"merged_by":null,"title":"SOC-1","body":null,
      "head":{"ref":"f"},"base":{"ref":"main"}},"sender":{"login":"ann"}})");
  CHECK(closed.kind == "pull_request.closed");
  CHECK(closed.number == "3");
  CHECK(closed.body.empty());
  CHECK(closed.author == "ann");
  CHECK(normalize("pull_request", R"({"action":"opened","pull_request":{}})").kind ==
        "pull_request.opened");
  CHECK(normalize("pull_request", R"({"action":"synchronized","pull_request":{}})").kind ==
        "pull_request.synchronized");
  CHECK(normalize("pull_request", R"({"pull_request":{}})").kind == "pull_request.unknown");
  // `merged: true` counts only on `closed`.
  CHECK(normalize("pull_request", R"({"action":"edited","pull_request":{"merged":true}})").kind ==
        "pull_request.edited");
}

TEST_CASE("gitea events: a merge without merged_by names the sender") {
  auto merged = normalize("pull_request", R"({"action":"closed","pull_request":{"merged":true}
      ,"sender":{"login":"","username":"bot"}})");
  CHECK(merged.kind == "pull_request.merged");
  CHECK(merged.author == "bot");
}

TEST_CASE("gitea events: a published release - name - tag - body - time - page - author") {
  auto published = normalize("release", R"json({"action":"published","release":{"id":1,
      "tag_name":"v1.2.0","target_commitish":"main","name":"v1.2 (SOC-9)","body":"fixes DEVHOP-3",
      "url":"https://gitea.example/api/v1/repos/acme/pay/releases/1",
      "html_url":"https://gitea.example/acme/pay/releases/tag/v1.2.0","draft":false,
      "prerelease":false,"created_at":"2024-01-02T03:04:05Z",
      "published_at":"2024-01-02T03:04:05Z","author":{"login":"rel","username":"rel"}},
      "repository":{"full_name":"acme/pay"},"sender":{"login":"other"}})json");
  CHECK(published.kind == "release.published");
  CHECK(published.repository == "acme/pay");
  CHECK(published.release_name == "v1.2 (SOC-9)");
  CHECK(published.release_body == "fixes DEVHOP-3");
  CHECK(published.tag == "v1.2.0");
  CHECK(published.released_at == "2024-01-02T03:04:05Z");
  CHECK(published.url == "https://gitea.example/acme/pay/releases/tag/v1.2.0");
  CHECK(published.author == "rel");
  CHECK(normalize("release", R"({"action":"updated","release":{}})").kind == "release.updated");
  CHECK(normalize("release", R"({"action":"deleted","release":{}})").kind == "release.deleted");
}

TEST_CASE("gitea events: a pushed tag is tag with the page of its tree - once") {
  const std::string tag_push =
      R"({"ref":"refs/tags/v1.0#rc","before":"0000000000000000000000000000000000000000",
      "after":"4522cbcefc20728a5b72b3a86af35e608622c514",
      "compare_url":"https://g/acme/pay/compare/x",
      "commits":[],"repository":{"full_name":"acme/pay","html_url":"https://g/acme/pay"},
      "pusher":{"login":"pat"}})";
  auto tag = normalize("push", tag_push);
  CHECK(tag.kind == "tag");
  CHECK(tag.tag == "v1.0#rc");
  CHECK(tag.url == "https://g/acme/pay/src/tag/v1.0%23rc");
  CHECK(tag.author == "pat");
  CHECK(tag.branch.empty());
  CHECK(tag.commits.empty());
  // Gitea's `create` event for the same tag stays `create`: one tag triggers `tag` once.
  CHECK(normalize("create", R"({"ref":"v1.0","ref_type":"tag","sha":"4522cb"})").kind == "create");
  // Without the repository's page, the compare page.
  auto bare = normalize("push", R"({"ref":"refs/tags/v2","after":"ab","compare_url":"https://c"})");
  CHECK(bare.url == "https://c");
}

TEST_CASE("gitea events: deleting a tag or a branch is not a tag or a push") {
  auto deleted_tag = normalize("push", R"({"ref":"refs/tags/v1","before":"4522cb",
      "after":"0000000000000000000000000000000000000000","commits":[]})");
  CHECK(deleted_tag.kind == "tag.deleted");
  CHECK(deleted_tag.tag == "v1");
  auto deleted_branch = normalize(
      "push", R"({"ref":"refs/heads/SOC-4-x","before":"4522cb","after":")" + std::string(64, '0') +
                  R"(","commits":[{"id":"4522cb","message":"SOC-4"}]})");
  CHECK(deleted_branch.kind == "push.deleted");
  CHECK(deleted_branch.branch == "SOC-4-x");
  CHECK(deleted_branch.commits.empty());
}

TEST_CASE("gitea events: the settings page's Test delivery is push.test - not a push") {
  // Older Gitea sends the default branch's last commit with before == after; newer a fake one
  // whose id is zeros.
  auto old_test = normalize("push", R"({"ref":"refs/heads/main","before":"4522cb","after":"4522cb",
      "commits":[{"id":"4522cb","message":"SOC-7 fix","author":{"name":"A"}}]})");
  CHECK(old_test.kind == "push.test");
  CHECK(old_test.branch == "main");
  const std::string zeros(40, '0');
  auto new_test = normalize("push", R"({"ref":"refs/heads/main","before":")" + zeros +
                                        R"(","after":")" + zeros + R"(","commits":[]})");
  CHECK(new_test.kind == "push.test");
}

TEST_CASE(
    "gitea events: commits oldest first - authors fall back to the username - no empty ones") {
  // Gitea lists a push's commits newest first.
  auto push = normalize("push", R"({"ref":"refs/heads/main","before":"a","after":"b",
      "commits":[{"id":"3","message":"SOC-3"},{"id":"2","message":""},
      {"id":"1","message":"SOC-1","author":{"name":"","username":"ann"}}],
      "pusher":{"login":"","username":"pat"}})");
  CHECK(push.kind == "push");
  REQUIRE(push.commits.size() == 2);
  CHECK(push.commits[0].id == "1");
  CHECK(push.commits[0].author == "ann");
  CHECK(push.commits[1].id == "3");
  CHECK(push.author == "pat");
}

TEST_CASE("gitea events: other events keep their names - a non-object payload is an error") {
  CHECK(normalize("pull_request_approved", R"({"action":"reviewed","pull_request":{}})").kind ==
        "pull_request_approved.reviewed");
  CHECK(normalize("issue_comment", R"({"action":"created","is_pull":true})").kind ==
        "issue_comment.created");
  CHECK(normalize("delete", R"({"ref":"v1","ref_type":"tag"})").kind == "delete");
  std::string error;
  CHECK_FALSE(gitea().normalize("push", "[1]", error).has_value());
  CHECK(error == "the payload is not a JSON object");
}

TEST_CASE("gitea events: a kind is made of kind words - no value spells a dot or another kind") {
  auto kind = [](std::string_view type, std::string_view payload) {
    return conduit::testing::normalized("gitea", type, payload).kind;
  };
  CHECK(kind("issues.x", R"({"action":"label.merged"})") == "issues_x.label_merged");
  CHECK(kind("pull_request", R"({"action":"synchronized"})") == "pull_request.synchronized");
}
