#include "provider_test_support.hpp"

#include <doctest/doctest.h>

#include "process.hpp"

using conduit::providers::Event;

namespace {

Event normalize(std::string_view type, std::string_view payload) {
  return conduit::testing::normalized("github", type, payload);
}

}  // namespace

TEST_CASE("github events: a merged pull request - from the sample payload") {
  const std::string payload =
      conduit::testing::readFile(CONDUIT_EXAMPLES_DIR "/payloads/pull_request.closed.json");
  auto event = normalize("pull_request", payload);
  CHECK(event.kind == "pull_request.merged");
  CHECK(event.title == "SOC-12: idempotent settlement batches");
  CHECK(event.body.find("(SOC-12)") != std::string::npos);
  CHECK(event.branch == "feature/SOC-12-idempotent-settlement");
  CHECK(event.url == "https://github.com/acme-corp/payments-service/pull/1347");
  CHECK(event.author == "bob-reviewer");  // who merged
  CHECK(event.commits.empty());
}

TEST_CASE("github events: closed without merging - opened - and a null body") {
  auto closed =
      normalize("pull_request", R"({"action":"closed","pull_request":{"merged":false,"title":"t",)"
                                R"("body":null,"head":{"ref":"b"}},"sender":{"login":"ann"}})");
  CHECK(closed.kind == "pull_request.closed");
  CHECK(closed.body.empty());
  CHECK(closed.author == "ann");
  CHECK(normalize("pull_request", R"({"action":"opened","pull_request":{}})").kind ==
        "pull_request.opened");
}

TEST_CASE("github events: releases - each action its own kind") {
  auto published = normalize("release", R"json({"action":"published","release":{
      "name":"v1.2 (SOC-9)","body":"fixes DEVHOP-3","html_url":"https://x/r",
      "author":{"login":"rel"}}})json");
  CHECK(published.kind == "release.published");
  CHECK(published.release_name == "v1.2 (SOC-9)");
  CHECK(published.release_body == "fixes DEVHOP-3");
  CHECK(published.author == "rel");
  CHECK(normalize("release", R"({"action":"created","release":{}})").kind == "release.created");
}

TEST_CASE("github events: a push - commit messages oldest first - branch without refs/heads/") {
  auto push = normalize("push", R"({"ref":"refs/heads/feature/SOC-12","compare":"https://x/c",)"
                                R"("pusher":{"name":"pat"},"commits":[{"message":"SOC-12 a"},)"
                                R"({"message":"SOC-13 b"},{"id":"no message"}]})");
  CHECK(push.kind == "push");
  CHECK(push.branch == "feature/SOC-12");
  REQUIRE(push.commits.size() == 2);
  CHECK(push.commits[0].message == "SOC-12 a");
  CHECK(push.commits[1].message == "SOC-13 b");
  CHECK(push.author == "pat");
  CHECK(push.url == "https://x/c");
}

TEST_CASE("github events: other events keep their name - a non-object payload is an error") {
  CHECK(normalize("issues", R"({"action":"labeled"})").kind == "issues.labeled");
  CHECK(normalize("create", R"({"ref":"x"})").kind == "create");
  std::string error;
  CHECK_FALSE(conduit::testing::provider("github").normalize("push", "[1]", error).has_value());
  CHECK(error == "the payload is not a JSON object");
}

TEST_CASE("github events: ABI 1.3's fields - number, reference, target branch, repository") {
  const std::string payload =
      conduit::testing::readFile(CONDUIT_EXAMPLES_DIR "/payloads/pull_request.closed.json");
  auto event = normalize("pull_request", payload);
  CHECK(event.host == "GitHub");
  CHECK(event.number == "1347");
  CHECK(event.reference == "pull request #1347");
  CHECK(event.target_branch == "main");
  CHECK(event.repository == "acme-corp/payments-service");
}

TEST_CASE("github events: a release's tag and time - a commit's id - page and author") {
  auto published = normalize("release", R"({"action":"published","release":{"tag_name":"v1.2",)"
                                        R"("published_at":"2026-12-01T10:00:00Z"}})");
  CHECK(published.tag == "v1.2");
  CHECK(published.released_at == "2026-12-01T10:00:00Z");
  auto push = normalize("push", R"({"ref":"refs/heads/main","commits":[{"id":"abc123",)"
                                R"("message":"SOC-1 fix","url":"https://x/commit/abc123",)"
                                R"("author":{"name":"Ann Lee","username":"ann"}}]})");
  REQUIRE(push.commits.size() == 1);
  CHECK(push.commits[0].id == "abc123");
  CHECK(push.commits[0].url == "https://x/commit/abc123");
  CHECK(push.commits[0].author == "Ann Lee");
}

TEST_CASE("github events: a pushed tag is `tag` - not `push`") {
  auto tag = normalize("push", R"({"ref":"refs/tags/v2.0.0","compare":"https://x/c",)"
                               R"("pusher":{"name":"pat"},"commits":[]})");
  CHECK(tag.kind == "tag");
  CHECK(tag.tag == "v2.0.0");
  CHECK(tag.branch.empty());
  CHECK(tag.author == "pat");
}

TEST_CASE("github events: a deleted tag or branch triggers nothing - tag.deleted - push.deleted") {
  auto tag = normalize("push", R"({"ref":"refs/tags/v2.0.0","deleted":true,)"
                               R"("after":"0000000000000000000000000000000000000000"})");
  CHECK(tag.kind == "tag.deleted");
  auto branch = normalize("push", R"({"ref":"refs/heads/old","deleted":true,"commits":[]})");
  CHECK(branch.kind == "push.deleted");
}

TEST_CASE("github events: a kind is made of kind words - no value spells a dot or another kind") {
  CHECK(normalize("workflow.run", R"({"action":"in progress.merged"})").kind ==
        "workflow_run.in_progress_merged");
  CHECK(normalize("pull_request", R"({"action":"closed.x"})").kind == "pull_request.closed_x");
}
