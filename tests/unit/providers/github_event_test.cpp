#include "providers/github_event.hpp"

#include <doctest/doctest.h>

#include "process.hpp"

using conduit::providers::Event;
using conduit::providers::normalizeGitHubEvent;

namespace {

Event normalize(std::string_view type, std::string_view payload) {
  std::string error;
  auto event = normalizeGitHubEvent(type, payload, error);
  REQUIRE_MESSAGE(event.has_value(), error);
  return *event;
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
  CHECK(event.commit_messages.empty());
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
  CHECK(push.commit_messages == std::vector<std::string>{"SOC-12 a", "SOC-13 b"});
  CHECK(push.author == "pat");
  CHECK(push.url == "https://x/c");
}

TEST_CASE("github events: other events keep their name - a non-object payload is an error") {
  CHECK(normalize("issues", R"({"action":"labeled"})").kind == "issues.labeled");
  CHECK(normalize("create", R"({"ref":"x"})").kind == "create");
  std::string error;
  CHECK_FALSE(normalizeGitHubEvent("push", "[1]", error).has_value());
  CHECK(error == "the payload is not a JSON object");
}
