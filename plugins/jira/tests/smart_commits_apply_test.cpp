// Applying smart commits: the whole processor through its C entry point, the SDK's FakeHost and
// the Jira simulator on a real socket, with Jira's error answers for each call.
#include <chrono>
#include <map>

#include <doctest/doctest.h>
#include <conduit/testing.hpp>

#include "jira_simulator.hpp"

extern "C" const conduit_plugin_descriptor* conduit_plugin_entry_v1();

using conduit::jira_simulator::JiraSimulator;
using conduit::jira_simulator::SimulatorOptions;
using conduit::sdk::testing::EventData;
using conduit::sdk::testing::FakeHost;
using conduit::sdk::testing::PluginUnderTest;
using conduit::sdk::testing::Report;

namespace {

constexpr const char* kSmart = R"({"smart_commits": true})";

struct SmartSite {
  explicit SmartSite(std::string worker_json = kSmart, SimulatorOptions options = {})
      : json(std::move(worker_json)) {
    jira = std::make_unique<JiraSimulator>(std::move(options));
    jira->start();
    nextDelivery();
  }

  // A new FakeHost (its own checkpoints, no claims) and plugin instance.
  void nextDelivery() {
    plugin.reset();
    host = std::make_unique<FakeHost>();
    host->setConfig("atlassian_domain_url", jira->url());
    host->setConfig("atlassian_email", "dev@example.test");
    host->setConfig("atlassian_api_key", "simulator-token");
    for (const std::string project : {"SOC", "DEVHOP"}) {
      host->addTransition(project, "To Do", "next", "in_progress", "In Progress");
      host->addTransition(project, "In Progress", "next", "done", "Done");
      host->addEnd(project, "Done", "next");
    }
    plugin = std::make_unique<PluginUnderTest>(conduit_plugin_entry_v1(), *host);
    REQUIRE(plugin->configure("atlassian", json, {"soc", "devhop"}) == "");
  }

  // A push of commits (messages; ids c1, c2, ... unless given), oldest first.
  PluginUnderTest::Answer push(const std::vector<std::string>& messages, uint32_t attempt = 1,
                               const std::string& delivery_id = "push-1",
                               std::vector<std::string> ids = {}) {
    EventData event;
    event.kind = "push";
    event.delivery_id = delivery_id;
    event.attempt = attempt;
    event.branch = "main";
    event.author = "pusher";
    event.commit_messages = messages;
    for (size_t i = 0; i < messages.size(); ++i) {
      if (ids.size() <= i) ids.push_back("c0ffee" + std::to_string(i + 1));
      event.commit_urls.push_back("https://github.com/org/repo/commit/" + ids[i]);
      event.commit_authors.push_back("alice");
    }
    event.commit_ids = ids;
    return plugin->process(event);
  }

  bool logged(const std::string& text) const {
    for (const auto& [level, line] : host->logs()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  std::string json;
  std::unique_ptr<JiraSimulator> jira;
  std::unique_ptr<FakeHost> host;
  std::unique_ptr<PluginUnderTest> plugin;
};

std::vector<Report> withAction(const std::vector<Report>& reports, const std::string& action) {
  std::vector<Report> found;
  for (const auto& report : reports) {
    if (report.get("action") == action) found.push_back(report);
  }
  return found;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("smart commits apply: a comment and a worklog from a push - who, where, once") {
  SmartSite site;
  auto answer = site.push({"SOC-1 #comment Fixed the login #time 1h 30m Took a while"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  const auto comments = site.jira->comments("SOC-1");
  REQUIRE(comments.size() == 1);
  CHECK(contains(comments[0], "Fixed the login"));
  CHECK(contains(comments[0],
                 "alice in commit c0ffee1 (https://github.com/org/repo/commit/c0ffee1)"
                 " on GitHub"));
  CHECK(contains(comments[0], "~conduit:atlassian:smart:c0ffee1:0:SOC-1~"));
  const auto logged = site.jira->worklogs("SOC-1");
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].seconds == 5400);
  CHECK(logged[0].comment.find("Took a while\n\n\u2014 alice in commit c0ffee1") == 0);
  CHECK(contains(logged[0].comment, "~conduit:atlassian:smart:c0ffee1:1:SOC-1~"));
  CHECK(withAction(answer.actions, "commented").size() == 1);
  const auto worklogs = withAction(answer.actions, "worklog");
  REQUIRE(worklogs.size() == 1);
  CHECK(worklogs[0].get("issue") == "SOC-1");
  CHECK(worklogs[0].get("seconds") == "5400");
  // A push is no trigger by default: nothing moved, and the event is not "ignored".
  CHECK(site.jira->totalTransitionsApplied() == 0);
  CHECK(withAction(answer.actions, "ignored").empty());
  CHECK(site.host->counter("jira.worklogs") == 1);

  // The same delivery again: nothing twice.
  CHECK(site.push({"SOC-1 #comment Fixed the login #time 1h 30m Took a while"}, 2).outcome ==
        CONDUIT_OUTCOME_OK);
  CHECK(site.jira->comments("SOC-1").size() == 1);
  CHECK(site.jira->worklogCount("SOC-1") == 1);
}

TEST_CASE("smart commits apply: off by default - a push with commands is ignored") {
  SmartSite site("{}");
  auto answer = site.push({"SOC-1 #comment hello #done"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->requestCount() == 0);
  CHECK(withAction(answer.actions, "ignored").size() == 1);
}

TEST_CASE("smart commits apply: a transition for two keys - under each issue's lease") {
  SmartSite site;
  auto answer = site.push({"SOC-1 SOC-2 #start-work"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.jira->status("SOC-2") == "In Progress");
  CHECK(site.host->leasesTaken() == std::vector<std::string>{"SOC-1", "SOC-2"});
  CHECK(!site.host->leaseHeld("SOC-1"));
  const auto moved = withAction(answer.actions, "transitioned");
  REQUIRE(moved.size() == 2);
  CHECK(moved[0].get("issue") == "SOC-1");
  CHECK(moved[0].get("transition") == "Start work");
  CHECK(moved[0].get("from") == "To Do");
  CHECK(moved[0].get("to") == "In Progress");
  CHECK(site.logged("SOC-1 moved from \"To Do\" to \"In Progress\" (smart commit #start-work"));
  // Jira's `#close Fixed this today`: a transition's text is a comment too; and `#start` is
  // "Start work", read up to its first blank.
  site.jira->setStatus("SOC-3", "To Do");
  CHECK(site.push({"SOC-3 #start on it now"}, 1, "push-2", {"beef"}).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-3") == "In Progress");
  REQUIRE(site.jira->comments("SOC-3").size() == 1);
  CHECK(contains(site.jira->comments("SOC-3")[0], "on it now"));
}

TEST_CASE("smart commits apply: commits in order - a later transition follows an earlier one") {
  SmartSite site;
  auto answer = site.push({"SOC-1 #start-work", "SOC-1 #finish"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "Done");
  CHECK(site.jira->transitionHistory("SOC-1") == std::vector<std::string>{"Start work", "Finish"});
}

TEST_CASE("smart commits apply: an earlier transition to retry holds back the key's later ones") {
  SmartSite site;
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/transitions", 503);
  auto first = site.push({"SOC-1 #start-work", "SOC-1 #finish #comment later"});
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(contains(first.message, "#finish"));
  CHECK(contains(first.message, "waits for the issue's earlier transition"));
  CHECK(site.jira->status("SOC-1") == "To Do");
  CHECK(site.jira->comments("SOC-1").size() == 1);  // a comment waits for nothing
  CHECK(withAction(first.actions, "failed").empty());

  auto second = site.push({"SOC-1 #start-work", "SOC-1 #finish #comment later"}, 2);
  CHECK(second.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "Done");
  CHECK(site.jira->comments("SOC-1").size() == 1);
}

TEST_CASE("smart commits apply: no such transition fails that command - visibly, the rest go on") {
  SmartSite site;
  auto answer = site.push({"SOC-1 #dnoe #comment still here", "SOC-2 #start-work"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);  // a typo dead-letters no push
  CHECK(site.jira->status("SOC-1") == "To Do");
  REQUIRE(site.jira->comments("SOC-1").size() == 1);  // the other command of the line
  CHECK(contains(site.jira->comments("SOC-1")[0], "still here"));
  CHECK(site.jira->status("SOC-2") == "In Progress");
  const auto failed = withAction(answer.actions, "failed");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].get("issue") == "SOC-1");
  CHECK(failed[0].get("reason") ==
        "SOC-1: #dnoe from \"To Do\": no transition \"dnoe\" is available (available: Start work "
        "-> In Progress)");
  CHECK(site.logged("smart commit not applied: SOC-1: #dnoe"));
  CHECK(site.host->counter("jira.smart_commands_failed") == 1);

  // A retry for something else does not try it again, and the record still says why.
  auto again = site.push({"SOC-1 #dnoe #comment still here", "SOC-2 #start-work"}, 2);
  CHECK(again.outcome == CONDUIT_OUTCOME_OK);
  CHECK(withAction(again.actions, "failed").size() == 1);
  CHECK(site.jira->comments("SOC-1").size() == 1);
}

TEST_CASE("smart commits apply: a malformed duration fails without a request") {
  SmartSite site;
  auto answer = site.push({"SOC-1 #time soon-ish"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->requestCount() == 0);
  const auto failed = withAction(answer.actions, "failed");
  REQUIRE(failed.size() == 1);
  CHECK(contains(failed[0].get("reason"), "#time needs a duration first"));
}

TEST_CASE("smart commits apply: each Jira error answer - classified as every call's") {
  SUBCASE("401 fails the delivery at once") {
    SimulatorOptions options;
    options.api_token = "another-token";
    SmartSite site(kSmart, options);
    auto answer = site.push({"SOC-1 #comment a", "SOC-2 #time 1h"});
    CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
    CHECK(contains(answer.message, "401"));
    CHECK(site.jira->requestCount() == 1);
    CHECK(site.logged("Jira refused the credentials of dev@example.test"));
  }
  SUBCASE("403 on a worklog: the permission is missing, for every issue") {
    SmartSite site;
    site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/worklog", 403);
    auto answer = site.push({"SOC-1 #time 1h"});
    CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
    CHECK(contains(answer.message, "403"));
    CHECK(site.logged("Work on issues"));
  }
  SUBCASE("404: that key fails, the others go on") {
    SmartSite site;
    site.jira->removeIssue("SOC-1");
    auto answer = site.push({"SOC-1 SOC-2 #comment hi"});
    CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->comments("SOC-2").size() == 1);
    const auto failed = withAction(answer.actions, "failed");
    REQUIRE(failed.size() == 1);
    CHECK(contains(failed[0].get("reason"), "SOC-1: no such issue"));
  }
  SUBCASE("400 with Jira's messages: failed for good, saying them") {
    SmartSite site;
    site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/worklog", 400);
    auto answer = site.push({"SOC-1 #time 1h #comment after"});
    CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->worklogCount("SOC-1") == 0);
    CHECK(site.jira->comments("SOC-1").size() == 1);
    const auto failed = withAction(answer.actions, "failed");
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].get("reason") ==
          "POST SOC-1 worklog: Jira answered 400 (Simulated failure (HTTP 400).)");
  }
  SUBCASE("429 with a long Retry-After: a retry after it, the site left alone") {
    SmartSite site;
    site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/comment", 429, 1, 30);
    auto answer = site.push({"SOC-1 #comment a", "SOC-2 #comment b"});
    CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
    CHECK(answer.retry_after_ms > 29000);
    CHECK(site.jira->requestCount() == 1);  // SOC-2's comment waits for the site too
  }
  SUBCASE("429 with a short Retry-After: slept out in the attempt") {
    SmartSite site;
    site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/worklog", 429, 1, 1);
    auto answer = site.push({"SOC-1 #time 2h"});
    CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->worklogCount("SOC-1") == 1);
  }
  SUBCASE("500 on a comment: retried - and posted once") {
    SmartSite site;
    site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/comment", 500);
    auto first = site.push({"SOC-1 #comment a #time 1h"});
    CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
    CHECK(site.jira->worklogCount("SOC-1") == 1);  // the other command went on
    CHECK(site.push({"SOC-1 #comment a #time 1h"}, 2).outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->comments("SOC-1").size() == 1);
    CHECK(site.jira->worklogCount("SOC-1") == 1);
  }
  SUBCASE("a comment's answer dropped: found by its marker, not posted twice") {
    SmartSite site;
    site.jira->dropAnswerNext("POST", "/rest/api/2/issue/SOC-1/comment");
    CHECK(site.push({"SOC-1 #comment a"}).outcome == CONDUIT_OUTCOME_RETRY);
    CHECK(site.jira->comments("SOC-1").size() == 1);
    CHECK(site.push({"SOC-1 #comment a"}, 2).outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->comments("SOC-1").size() == 1);
    CHECK(site.logged("SOC-1: the smart commit comment of an earlier attempt is there"));
  }
  SUBCASE("a worklog's answer dropped: found by its marker, not logged twice") {
    SmartSite site;
    site.jira->dropAnswerNext("POST", "/rest/api/2/issue/SOC-1/worklog");
    CHECK(site.push({"SOC-1 #time 1h"}).outcome == CONDUIT_OUTCOME_RETRY);
    CHECK(site.jira->worklogCount("SOC-1") == 1);
    auto again = site.push({"SOC-1 #time 1h"}, 2);
    CHECK(again.outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->worklogCount("SOC-1") == 1);
    CHECK(site.logged("SOC-1: the worklog of an earlier attempt is there; not logged again"));
    CHECK(withAction(again.actions, "worklog").size() == 1);
  }
  SUBCASE("a worklog refused with a 500 that was not applied: logged on the retry") {
    SmartSite site;
    site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/worklog", 500);
    CHECK(site.push({"SOC-1 #time 1h"}).outcome == CONDUIT_OUTCOME_RETRY);
    CHECK(site.jira->worklogCount("SOC-1") == 0);
    CHECK(site.push({"SOC-1 #time 1h"}, 2).outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->worklogCount("SOC-1") == 1);
  }
  SUBCASE("a transition's answer dropped: the issue read again tells, moved once") {
    SmartSite site;
    site.jira->dropAnswerNext("POST", "/rest/api/2/issue/SOC-1/transitions");
    CHECK(site.push({"SOC-1 #start-work"}).outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->transitionsApplied("SOC-1") == 1);
    CHECK(site.push({"SOC-1 #start-work"}, 2).outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->transitionsApplied("SOC-1") == 1);
  }
  SUBCASE("a transition refused with 400 each time: read again, then failed for good") {
    SmartSite site;
    site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/transitions", 400, 3);
    auto answer = site.push({"SOC-1 #start-work"});
    CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
    CHECK(site.jira->status("SOC-1") == "To Do");
    CHECK(withAction(answer.actions, "failed").size() == 1);
  }
}

TEST_CASE("smart commits apply: a replay - attempt 1 again with the checkpoints - adds nothing") {
  SmartSite site;
  const std::vector<std::string> messages = {"SOC-1 #comment a #time 1h #start-work"};
  CHECK(site.push(messages).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.push(messages, 1).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->comments("SOC-1").size() == 1);
  CHECK(site.jira->worklogCount("SOC-1") == 1);
  CHECK(site.jira->transitionsApplied("SOC-1") == 1);
}

TEST_CASE("smart commits apply: a commit seen in an earlier push is not applied again") {
  SmartSite site;
  CHECK(site.push({"SOC-1 #comment first push"}, 1, "push-1", {"aaa111"}).outcome ==
        CONDUIT_OUTCOME_OK);
  CHECK(site.host->claims().count("smart:github:repo:aaa111") == 1);
  // A rebase resends it with a new commit beside it, in a delivery of its own.
  auto second = site.push({"SOC-1 #comment first push", "SOC-1 #comment new"}, 1, "push-2",
                          {"aaa111", "bbb222"});
  CHECK(second.outcome == CONDUIT_OUTCOME_OK);
  const auto comments = site.jira->comments("SOC-1");
  REQUIRE(comments.size() == 2);
  CHECK(contains(comments[1], "new"));
  const auto skipped = withAction(second.actions, "skipped");
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].get("reason") ==
        "aaa111: its smart commit commands were applied by an earlier delivery "
        "(github::repo::push-1)");
  CHECK(site.host->counter("jira.smart_commits_seen") == 1);

  // In a fresh store (another worker process): the claim alone keeps it from coming twice.
  site.nextDelivery();
  site.host->holdClaim("smart:github:repo:aaa111", "github::repo::push-1");
  CHECK(site.push({"SOC-1 #comment first push"}, 1, "push-3", {"aaa111"}).outcome ==
        CONDUIT_OUTCOME_OK);
  CHECK(site.jira->comments("SOC-1").size() == 2);
}

TEST_CASE("smart commits apply: claims unreachable - a retry, nothing applied") {
  SmartSite site;
  site.host->failClaims(true);
  auto answer = site.push({"SOC-1 #comment a"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(contains(answer.message, "smart commits: the claim smart:github:repo:c0ffee1"));
  CHECK(site.jira->requestCount() == 0);
}

TEST_CASE("smart commits apply: a conduit without claims - applied once per delivery") {
  SmartSite site;
  site.host->poseAsAbiMinor(3);
  CHECK(site.push({"SOC-1 #comment a"}).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.push({"SOC-1 #comment a"}, 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->comments("SOC-1").size() == 1);
}

TEST_CASE("smart commits apply: a merged pull request's title and body - before its move") {
  SmartSite site;
  EventData event;
  event.kind = "pull_request.merged";
  event.title = "SOC-1: login";
  event.body = "Done at last.\nSOC-1 #comment Reviewed by bob\nDEVHOP-2 #time 3d";
  event.url = "https://github.com/org/repo/pull/12";
  event.author = "alice";
  event.number = "12";
  event.reference = "pull request #12";
  auto answer = site.plugin->process(event);
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  REQUIRE(site.jira->comments("SOC-1").size() == 1);
  CHECK(contains(site.jira->comments("SOC-1")[0],
                 "alice in pull request #12 (https://github.com/org/repo/pull/12) on GitHub"));
  CHECK(site.jira->worklogCount("DEVHOP-2") == 1);
  // The trigger's move as before: the issues named in the title, body and branch.
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.jira->status("DEVHOP-2") == "In Progress");
  CHECK(site.host->claims().count("smart:github:repo:pr-12") == 1);
}

TEST_CASE("smart commits apply: a dry run says what it would do - and does nothing") {
  SmartSite site(R"({"smart_commits": true, "dry_run": true})");
  auto answer = site.push({"SOC-1 #comment a #time 1h #done"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->requestCount() == 0);
  CHECK(withAction(answer.actions, "skipped").size() == 3);
  CHECK(site.host->claims().empty());
}

TEST_CASE("smart commits apply: leases that cannot be taken (Redis down) - a retry") {
  SmartSite site;
  site.host->failLeases(true);
  auto answer = site.push({"SOC-1 #start-work #comment moved"});
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(site.jira->status("SOC-1") == "To Do");
  CHECK(site.jira->comments("SOC-1").size() == 1);  // the line's comment needs no lease
  site.host->failLeases(false);
  CHECK(site.push({"SOC-1 #start-work #comment moved"}, 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.jira->comments("SOC-1").size() == 1);
}
