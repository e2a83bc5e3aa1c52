// Links back to the code: each issue an event names gets a remote link to the pull or merge
// request, release or commit, whose global id is its URL; each Jira error answer of the call.
// Through the plugin's C entry point against the Jira simulator.
#include <set>

#include "jira_site.hpp"
#include "remote_links.hpp"

using conduit::jira::linksFor;
using conduit::jira::testing::EventData;
using conduit::jira::testing::JiraSite;

namespace {

constexpr const char* kLink = R"({"link":true})";

EventData githubPull(const std::string& kind = "pull_request.merged", uint32_t attempt = 1) {
  EventData event;
  event.kind = kind;
  event.title = "SOC-1: Sign-in with SSO";
  event.url = "https://github.com/org/repo/pull/12";
  event.number = "12";
  event.reference = "pull request #12";
  event.repository = "org/repo";
  event.author = "alice";
  event.attempt = attempt;
  return event;
}

EventData gitlabMerge() {
  EventData event;
  event.provider = "gitlab";
  event.host_name = "GitLab";
  event.kind = "pull_request.merged";
  event.title = "Sign-in with SSO";
  event.body = "Closes DEVHOP-4";
  event.url = "https://gitlab.example.com/group/sub/app/-/merge_requests/12";
  event.number = "12";
  event.reference = "merge request !12";
  event.repository = "group/sub/app";
  return event;
}

EventData push() {
  EventData event;
  event.kind = "push";
  event.branch = "main";
  event.url = "https://github.com/org/repo/compare/abc...def";
  event.commit_messages = {"SOC-1: first line\n\nmore", "nothing here", "SOC-1 SOC-2 both"};
  event.commit_ids = {"abc1234def", "bcd2345", "cde3456aaa"};
  event.commit_urls = {"https://github.com/org/repo/commit/abc1234def",
                       "https://github.com/org/repo/commit/bcd2345",
                       "https://github.com/org/repo/commit/cde3456aaa"};
  return event;
}

}  // namespace

TEST_CASE("links: a merged pull request links each issue it names - GitHub's words") {
  JiraSite site(kLink);
  auto answer = site.plugin->process(githubPull());
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");  // moved as before
  using Links = std::vector<std::pair<std::string, std::string>>;
  CHECK(site.links("SOC-1") ==
        Links{{"https://github.com/org/repo/pull/12", "PR #12: SOC-1: Sign-in with SSO (merged)"}});
  REQUIRE(JiraSite::countReports(answer, "linked") == 1);
  for (const auto& report : answer.actions) {
    if (report.get("action") == "linked") {
      CHECK(report.get("issue") == "SOC-1");
      CHECK(report.get("url") == "https://github.com/org/repo/pull/12");
    }
  }
  CHECK(site.logged("SOC-1: linked to https://github.com/org/repo/pull/12"));
}

TEST_CASE("links: the link's object says where it is from - Jira's remote link shape") {
  std::set<std::string> projects{"SOC"};
  EventData data = githubPull();
  conduit_event raw{};
  raw.struct_size = sizeof raw;
  raw.kind = conduit::sdk::str(data.kind);
  raw.title = conduit::sdk::str(data.title);
  raw.url = conduit::sdk::str(data.url);
  raw.host_name = conduit::sdk::str(data.host_name);
  raw.repository = conduit::sdk::str(data.repository);
  raw.reference = conduit::sdk::str(data.reference);
  auto links = linksFor("SOC-1", conduit::sdk::Event(raw), projects);
  REQUIRE(links.size() == 1);
  CHECK(links[0].global_id == "https://github.com/org/repo/pull/12");
  CHECK(links[0].application_name == "GitHub");
  CHECK(links[0].application_type == "conduit.github");
  CHECK(links[0].icon_url == "https://github.com/favicon.ico");
  CHECK(links[0].summary == "org/repo on GitHub");
  CHECK(links[0].relationship == "pull request");
  CHECK(links[0].resolved == std::optional<bool>(true));
  // A title Jira keeps whole: at most 255 bytes, cut at a character.
  std::string title(300, 'x');
  title.replace(248, 2, "\xc3\xa9");
  raw.title = conduit::sdk::str(title);
  auto long_links = linksFor("SOC-1", conduit::sdk::Event(raw), projects);
  CHECK(long_links[0].title.size() <= 255);
  CHECK(long_links[0].title.substr(long_links[0].title.size() - 3) == "...");
}

TEST_CASE("links: posted again, the same link is updated - not a second one") {
  JiraSite site(kLink);
  CHECK(site.plugin->process(githubPull("pull_request.opened")).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.links("SOC-1").size() == 1);
  CHECK(site.links("SOC-1")[0].second == "PR #12: SOC-1: Sign-in with SSO (open)");
  site.nextDelivery();
  CHECK(site.plugin->process(githubPull()).outcome == CONDUIT_OUTCOME_OK);
  REQUIRE(site.links("SOC-1").size() == 1);
  CHECK(site.links("SOC-1")[0].second == "PR #12: SOC-1: Sign-in with SSO (merged)");
  CHECK(site.logged("SOC-1: link updated to https://github.com/org/repo/pull/12"));
  // A retry of the delivery does not even post it.
  const int requests = site.jira->requestCount();
  auto retry = site.plugin->process(githubPull("pull_request.merged", 2));
  CHECK(retry.outcome == CONDUIT_OUTCOME_OK);
  CHECK(JiraSite::countReports(retry, "linked") == 0);
  CHECK(site.jira->requestCount() == requests);
}

TEST_CASE("links: a GitLab merge request - MR !12") {
  JiraSite site(kLink);
  CHECK(site.plugin->process(gitlabMerge()).outcome == CONDUIT_OUTCOME_OK);
  using Links = std::vector<std::pair<std::string, std::string>>;
  CHECK(site.links("DEVHOP-4") ==
        Links{{"https://gitlab.example.com/group/sub/app/-/merge_requests/12",
               "MR !12: Sign-in with SSO (merged)"}});
}

TEST_CASE("links: a release - Release v1.4.0") {
  JiraSite site(kLink);
  EventData release;
  release.kind = "release.published";
  release.tag = "v1.4.0";
  release.release_name = "v1.4.0";
  release.release_body = "SOC-5";
  release.url = "https://github.com/org/repo/releases/tag/v1.4.0";
  CHECK(site.plugin->process(release).outcome == CONDUIT_OUTCOME_OK);
  using Links = std::vector<std::pair<std::string, std::string>>;
  CHECK(site.links("SOC-5") ==
        Links{{"https://github.com/org/repo/releases/tag/v1.4.0", "Release v1.4.0"}});
}

TEST_CASE("links: a push links each commit to the keys it names - no push trigger needed") {
  JiraSite site(kLink);
  auto answer = site.plugin->process(push());
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(JiraSite::countReports(answer, "ignored") == 0);
  CHECK(site.jira->status("SOC-1") == "To Do");  // a push is no trigger: nothing moves
  using Links = std::vector<std::pair<std::string, std::string>>;
  CHECK(
      site.links("SOC-1") ==
      Links{{"https://github.com/org/repo/commit/abc1234def", "Commit abc1234: SOC-1: first line"},
            {"https://github.com/org/repo/commit/cde3456aaa", "Commit cde3456: SOC-1 SOC-2 both"}});
  CHECK(site.links("SOC-2") == Links{{"https://github.com/org/repo/commit/cde3456aaa",
                                      "Commit cde3456: SOC-1 SOC-2 both"}});
  CHECK(JiraSite::countReports(answer, "linked") == 3);
}

TEST_CASE("links: off by default, and not for events that are no change to link") {
  JiraSite site("{}");
  site.plugin->process(githubPull());
  CHECK(site.links("SOC-1").empty());

  JiraSite linking(kLink);
  auto approved = linking.plugin->process(githubPull("pull_request.reviewer_approved"));
  CHECK(approved.outcome == CONDUIT_OUTCOME_OK);
  CHECK(JiraSite::countReports(approved, "ignored") == 1);
  CHECK(linking.links("SOC-1").empty());
}

TEST_CASE("links: dry_run links nothing") {
  JiraSite site(R"({"link":true,"dry_run":true})");
  CHECK(site.plugin->process(githubPull()).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.links("SOC-1").empty());
  CHECK(site.logged("dry run: would link SOC-1 to https://github.com/org/repo/pull/12"));
}

// ---- each Jira error answer of the call ----

TEST_CASE("links: 403 fails the delivery at once - naming the permission") {
  JiraSite site(kLink);
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/remotelink", 403);
  auto answer = site.plugin->process(githubPull());
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("Jira answered 403") != std::string::npos);
  CHECK(answer.message.find("\"Link issues\"") != std::string::npos);
  CHECK(site.logged("Jira refused the credentials of dev@example.test"));
}

TEST_CASE("links: 404 and 400 fail that issue for good - the others go on") {
  JiraSite site(kLink);
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/remotelink", 404);
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-2/remotelink", 400);
  EventData event = githubPull();
  event.title = "SOC-1 SOC-2 SOC-3";
  auto answer = site.plugin->process(event);
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("SOC-1: not found") != std::string::npos);
  CHECK(answer.message.find("POST SOC-2 remote link https://github.com/org/repo/pull/12: Jira "
                            "answered 400") != std::string::npos);
  CHECK(JiraSite::countReports(answer, "failed") == 2);
  CHECK(site.links("SOC-3").size() == 1);
}

TEST_CASE("links: 429, 500, a timeout and a lost answer are retried - one link") {
  JiraSite site(kLink, {}, {{"atlassian_timeout_ms", "500"}});
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/remotelink", 429, 1, 1);  // waited out
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-2/remotelink", 500);
  site.jira->hangNext("POST", "/rest/api/2/issue/SOC-3/remotelink", std::chrono::seconds(3));
  site.jira->dropAnswerNext("POST", "/rest/api/2/issue/SOC-4/remotelink");
  EventData event = githubPull();
  event.title = "SOC-1 SOC-2 SOC-3 SOC-4";
  auto first = site.plugin->process(event);
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(site.links("SOC-1").size() == 1);
  CHECK(first.message.find("did not answer within 500 ms") != std::string::npos);
  event.attempt = 2;
  CHECK(site.plugin->process(event).outcome == CONDUIT_OUTCOME_OK);
  for (const std::string key : {"SOC-1", "SOC-2", "SOC-3", "SOC-4"}) {
    CAPTURE(key);
    CHECK(site.links(key).size() == 1);
  }
}

TEST_CASE("links: a commit naming a key in lower case - linked with key_case: insensitive") {
  std::set<std::string> projects{"SOC"};
  EventData data = push();
  data.commit_messages = {"soc-1: first line", "xsoc-1 is not a key"};
  std::vector<conduit_str> messages, ids, urls;
  for (size_t i = 0; i < 2; ++i) {
    messages.push_back(conduit::sdk::str(data.commit_messages[i]));
    ids.push_back(conduit::sdk::str(data.commit_ids[i]));
    urls.push_back(conduit::sdk::str(data.commit_urls[i]));
  }
  conduit_event raw{};
  raw.struct_size = sizeof raw;
  raw.kind = conduit::sdk::str(data.kind);
  raw.commit_messages = messages.data();
  raw.commit_message_count = messages.size();
  raw.commit_ids = ids.data();
  raw.commit_urls = urls.data();
  const conduit::sdk::Event event(raw);
  CHECK(linksFor("SOC-1", event, projects).empty());
  auto links =
      linksFor("SOC-1", event, projects, conduit::jira::JiraSettings::KeyCase::kInsensitive);
  REQUIRE(links.size() == 1);
  CHECK(links[0].url == "https://github.com/org/repo/commit/abc1234def");
  CHECK(links[0].title == "Commit abc1234: soc-1: first line");
}

TEST_CASE("links: only to http(s) pages - a javascript: URL from a payload is not linked") {
  JiraSite site(kLink);
  auto event = githubPull();
  event.url = "javascript:alert(document.cookie)//https://github.com/org/repo/pull/12";
  CHECK(site.plugin->process(event).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");  // the move is not held back
  CHECK(site.links("SOC-1").empty());
  auto pushed = push();
  for (auto& url : pushed.commit_urls)
    url = "data:text/html,<script>alert(1)</script>";
  CHECK(site.plugin->process(pushed).outcome == CONDUIT_OUTCOME_OK);
  for (const char* key : {"SOC-1", "SOC-2", "SOC-3"})
    CHECK(site.links(key).empty());
}
