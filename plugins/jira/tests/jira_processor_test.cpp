// The whole processor, through its C entry point and the SDK's FakeHost, against the Jira
// simulator on a real socket: what a plugin author would test without the daemon.
#include <chrono>
#include <map>
#include <thread>

#include <doctest/doctest.h>
#include <httplib.h>
#include <conduit/testing.hpp>

#include "jira_simulator.hpp"

extern "C" const conduit_plugin_descriptor* conduit_plugin_entry_v1();

using conduit::jira_simulator::JiraSimulator;
using conduit::jira_simulator::SimulatorOptions;
using conduit::sdk::testing::EventData;
using conduit::sdk::testing::FakeHost;
using conduit::sdk::testing::PluginUnderTest;

namespace {

// A simulator, a host whose state machines are the shipped jira.hcl's for SOC and DEVHOP, and
// the plugin configured as the worker `atlassian`.
struct Site {
  explicit Site(const std::string& worker_json = "{}", SimulatorOptions options = {},
                std::map<std::string, std::string> config = {})
      : extra_config(std::move(config)) {
    jira = std::make_unique<JiraSimulator>(std::move(options));
    jira->start();
    setUpHost(*host);
    plugin = std::make_unique<PluginUnderTest>(conduit_plugin_entry_v1(), *host);
    REQUIRE(plugin->configure("atlassian", worker_json, {"soc", "devhop"}) == "");
  }

  void setUpHost(FakeHost& h) const {
    h.setConfig("atlassian_domain_url", jira->url());
    h.setConfig("atlassian_email", "dev@example.test");
    h.setConfig("atlassian_api_key", "simulator-token");
    for (const auto& [key, value] : extra_config)
      h.setConfig(key, value);
    for (const std::string project : {"SOC", "DEVHOP"}) {
      h.addTransition(project, "To Do", "next", "in_progress", "In Progress");
      h.addTransition(project, "In Progress", "next", "done", "Done");
      h.addEnd(project, "Done", "next");
    }
  }

  // A new delivery: a fresh host (its own checkpoint store) and plugin instance.
  void nextDelivery(const std::string& worker_json = "{}") {
    plugin.reset();
    host = std::make_unique<FakeHost>();
    setUpHost(*host);
    plugin = std::make_unique<PluginUnderTest>(conduit_plugin_entry_v1(), *host);
    REQUIRE(plugin->configure("atlassian", worker_json, {"soc", "devhop"}) == "");
  }

  PluginUnderTest::Answer merged(const std::string& title, const std::string& branch = "",
                                 uint32_t attempt = 1) {
    EventData event;
    event.kind = "pull_request.merged";
    event.title = title;
    event.branch = branch;
    event.url = "https://github.com/org/repo/pull/7";
    event.author = "alice";
    event.attempt = attempt;
    return plugin->process(event);
  }

  bool logged(const std::string& text) const {
    for (const auto& [level, line] : host->logs()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  std::map<std::string, std::string> extra_config;
  std::unique_ptr<JiraSimulator> jira;
  std::unique_ptr<FakeHost> host = std::make_unique<FakeHost>();
  std::unique_ptr<PluginUnderTest> plugin;
};

}  // namespace

TEST_CASE("processor: a merged pull request moves each issue it names once") {
  Site site;
  auto answer = site.merged("SOC-1 and DEVHOP-2: login", "feature/SOC-3-login");
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.jira->status("DEVHOP-2") == "In Progress");
  CHECK(site.jira->status("SOC-3") == "In Progress");
  CHECK(site.jira->totalTransitionsApplied() == 3);
  CHECK(site.host->checkpoint("done:SOC-1") == "In Progress");
  CHECK(site.logged("SOC-1 moved from \"To Do\" to \"In Progress\" (transition \"Start work\")"));
  CHECK(site.host->counter("jira.transitions") == 3);

  // The same delivery again (a retry, a redelivery after a crash): nothing moves twice.
  CHECK(site.merged("SOC-1 and DEVHOP-2: login", "feature/SOC-3-login", 2).outcome ==
        CONDUIT_OUTCOME_OK);
  CHECK(site.jira->totalTransitionsApplied() == 3);
  CHECK(site.jira->status("SOC-1") == "In Progress");
}

TEST_CASE("processor: <end> moves nothing - and says so") {
  Site site;
  site.jira->setStatus("SOC-1", "Done");
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->totalTransitionsApplied() == 0);
  CHECK(site.logged("SOC-1 is at \"Done\": `next` leads to <end>"));
}

TEST_CASE("processor: events and kinds that are not triggers move nothing") {
  Site site;
  EventData closed;
  closed.kind = "pull_request.closed";
  closed.title = "SOC-1";
  CHECK(site.plugin->process(closed).outcome == CONDUIT_OUTCOME_OK);
  EventData created;
  created.kind = "release.created";
  created.release_name = "SOC-1";
  CHECK(site.plugin->process(created).outcome == CONDUIT_OUTCOME_OK);
  EventData push;
  push.kind = "push";
  push.commit_messages = {"SOC-1 fix"};
  CHECK(site.plugin->process(push).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->requestCount() == 0);
}

TEST_CASE("processor: a published release moves the issues of its name and body") {
  Site site;
  EventData release;
  release.kind = "release.published";
  release.release_name = "v1.2 (SOC-4)";
  release.release_body = "Includes DEVHOP-9.";
  CHECK(site.plugin->process(release).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-4") == "In Progress");
  CHECK(site.jira->status("DEVHOP-9") == "In Progress");
}

TEST_CASE("processor: a push counts only with a trigger for it - from its commit messages") {
  Site site(R"({"triggers":{"push":"next"}})");
  EventData push;
  push.kind = "push";
  push.commit_messages = {"SOC-5: first", "unrelated", "fix DEVHOP-6"};
  CHECK(site.plugin->process(push).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-5") == "In Progress");
  CHECK(site.jira->status("DEVHOP-6") == "In Progress");
}

TEST_CASE("processor: a long Retry-After holds the whole site - the retry waits for all of it") {
  // One key at a time, so that SOC-2 starts after the 429 (parallel_test.cpp has it with four).
  Site site(R"({"concurrency":1})");
  site.jira->failNext("GET", "/rest/api/2/issue/SOC-1", 429, 1, 7);
  auto first = site.merged("SOC-1 SOC-2");
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(first.retry_after_ms > 6000);
  CHECK(first.retry_after_ms <= 7000);
  CHECK(first.message.find("429") != std::string::npos);
  // SOC-2 was not even asked for: Jira asked the whole site to wait.
  CHECK(first.message.find("SOC-2: not sent: Jira asked (Retry-After) to wait") !=
        std::string::npos);
  CHECK(site.jira->requestCount() == 1);
  CHECK(site.jira->status("SOC-2") == "To Do");
}

TEST_CASE("processor: a short Retry-After is waited out in the attempt - no retry spent") {
  Site site;
  site.jira->failNext("GET", "/rest/api/2/issue/SOC-1", 429, 1, 1);
  const auto started = std::chrono::steady_clock::now();
  auto answer = site.merged("SOC-1 SOC-2");
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(900));
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.jira->status("SOC-2") == "In Progress");
}

TEST_CASE("processor: a 500 on the transition is retried - and moves the issue once") {
  Site site;
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/transitions", 500);
  auto first = site.merged("SOC-1 SOC-2");
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(first.retry_after_ms == 0);                    // the host's backoff
  CHECK(site.jira->status("SOC-2") == "In Progress");  // one failing key holds back no other
  CHECK(site.merged("SOC-1 SOC-2", "", 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->transitionsApplied("SOC-1") == 1);
  CHECK(site.jira->transitionsApplied("SOC-2") == 1);
}

TEST_CASE("processor: refused credentials fail for good at once - no other call is made") {
  SimulatorOptions options;
  options.api_token = "another-token";
  // One key at a time: no other starts after the refusal (parallel_test.cpp: four at a time).
  Site site(R"({"concurrency":1})", options);
  auto answer = site.merged("SOC-1 SOC-2 SOC-3");
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("401") != std::string::npos);
  CHECK(site.jira->requestCount() == 1);
  CHECK(site.logged("Jira refused the credentials of dev@example.test"));
}

TEST_CASE("processor: a missing issue fails for good - the others go on") {
  Site site;
  site.jira->removeIssue("SOC-404");
  auto answer = site.merged("SOC-404 SOC-1");
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("SOC-404: no such issue") != std::string::npos);
  CHECK(site.jira->status("SOC-1") == "In Progress");
}

TEST_CASE("processor: no transition leading to the target fails - listing those available") {
  Site site;
  site.host->addTransition("SOC", "To Do", "next", "done", "Done");  // the machine skips a step
  auto answer = site.merged("SOC-1");
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message ==
        "SOC-1: no transition available from \"To Do\" leads to \"Done\" (available: Start work "
        "-> In Progress)");
}

TEST_CASE("processor: a status with no alias fails for good - naming status and project") {
  Site site;
  site.jira->setStatus("SOC-1", "Blocked");
  auto answer = site.merged("SOC-1");
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("SOC-1: ") == 0);
  CHECK(answer.message.find("Blocked") != std::string::npos);
  CHECK(answer.message.find("SOC") != std::string::npos);
  CHECK(site.jira->totalTransitionsApplied() == 0);
}

TEST_CASE("processor: a transition matched by its own name when no target status matches") {
  Site site;
  site.host->addTransition("SOC", "To Do", "next", "start", "Start work");
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");
}

TEST_CASE("processor: comment: true comments once on each moved issue") {
  Site site(R"({"comment":true})");
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_OK);
  auto comments = site.jira->comments("SOC-1");
  REQUIRE(comments.size() == 1);
  CHECK(comments[0] ==
        "Moved to In Progress by Conduit: pull request \"SOC-1\" "
        "(https://github.com/org/repo/pull/7) was merged by alice on GitHub.\n\n"
        "~conduit:atlassian:github:delivery-1~");
  CHECK(site.merged("SOC-1", "", 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->comments("SOC-1").size() == 1);
}

TEST_CASE("processor: dry_run changes nothing in Jira - and logs what it would do") {
  Site site(R"({"dry_run":true,"comment":true})");
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->totalTransitionsApplied() == 0);
  CHECK(site.jira->comments("SOC-1").empty());
  CHECK(site.logged("dry run: would move SOC-1 from \"To Do\" to \"In Progress\""));
}

TEST_CASE("processor: a worker without Jira's address or credentials is refused") {
  FakeHost host;
  PluginUnderTest plugin(conduit_plugin_entry_v1(), host);
  CHECK(plugin.configure("atlassian", "{}", {"SOC"}).find("atlassian_domain_url is not set") == 0);
}

TEST_CASE("processor: 403 is refused credentials too") {
  Site site(R"({"concurrency":1})");
  site.jira->failNext("GET", "/rest/api/2/issue/SOC-1", 403);
  auto answer = site.merged("SOC-1 SOC-2");
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(site.jira->requestCount() == 1);
}

TEST_CASE("processor: 503 with Retry-After holds the site - as 429 does") {
  Site site;
  site.jira->failNext("GET", "/rest/api/2/issue/SOC-1", 503, 1, 30);
  auto answer = site.merged("SOC-1");
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.retry_after_ms > 29000);
  CHECK(answer.retry_after_ms <= 30000);
}

TEST_CASE("processor: Retry-After refused again and again ends in a retry after the wait") {
  Site site;
  site.jira->failNext("GET", "/rest/api/2/issue/SOC-1", 429, 5, 1);
  auto answer = site.merged("SOC-1");
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.retry_after_ms > 0);
  CHECK(answer.retry_after_ms <= 1000);
  CHECK(site.jira->requestCount() == 3);  // sent three times in the attempt, no more
}

TEST_CASE("processor: a transition refused as unavailable is read and decided again") {
  Site site;
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/transitions", 400);
  auto answer = site.merged("SOC-1 SOC-2");
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.jira->status("SOC-2") == "In Progress");
  CHECK(site.logged("SOC-1: POST SOC-1 transition 11: Jira answered 400"));
  CHECK(site.logged("reading the issue again"));
}

TEST_CASE("processor: a transition refused every time is a retry - never a dead letter") {
  Site site;
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/transitions", 400, 3);
  auto answer = site.merged("SOC-1");
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.message.find("Jira answered 400") != std::string::npos);
  CHECK(answer.message.find("(available when read: Start work -> In Progress)") !=
        std::string::npos);
  CHECK_FALSE(site.host->checkpoint("failed:SOC-1"));
  CHECK(site.merged("SOC-1", "", 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");
}

TEST_CASE(
    "processor: the issue moved by someone else between attempts - the event applies to "
    "its status now") {
  Site site;
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/transitions", 429);  // not applied
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_RETRY);
  site.jira->setStatus("SOC-1", "In Progress");  // another delivery's move, say
  CHECK(site.merged("SOC-1", "", 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "Done");  // this one's step still taken
}

TEST_CASE("processor: a transition applied but its answer dropped counts as done once") {
  Site site;
  site.jira->dropAnswerNext("POST", "/rest/api/2/issue/SOC-1/transitions");
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->transitionsApplied("SOC-1") == 1);
  CHECK(site.host->checkpoint("done:SOC-1") == "In Progress");
  CHECK(site.logged("its answer was lost"));
  CHECK(site.merged("SOC-1", "", 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->transitionsApplied("SOC-1") == 1);
}

TEST_CASE("processor: a transition that timed out unapplied is sent again on the retry") {
  Site site("{}", {}, {{"atlassian_timeout_ms", "500"}});
  site.jira->hangNext("POST", "/rest/api/2/issue/SOC-1/transitions", std::chrono::seconds(3));
  auto first = site.merged("SOC-1");
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(first.message.find("did not answer within 500 ms") != std::string::npos);
  CHECK(site.host->checkpoint("target:SOC-1") == "");  // checked: not applied
  CHECK(site.merged("SOC-1", "", 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->transitionsApplied("SOC-1") == 1);
}

TEST_CASE("processor: each issue is moved under its lease - released afterwards") {
  Site site;
  CHECK(site.merged("SOC-1 SOC-2").outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.host->leasesTaken() == std::vector<std::string>{"SOC-1", "SOC-2"});
  CHECK(site.host->leaseExtensions() == 4);  // before each GET and each POST
  CHECK_FALSE(site.host->leaseHeld("SOC-1"));
  CHECK_FALSE(site.host->leaseHeld("SOC-2"));
}

TEST_CASE("processor: an issue another holds the lease of waits - then a retry, not a failure") {
  // Waits for a lease for the ttl (500 ms + 5 s + 5 s) and 5 s more.
  Site site("{}", {}, {{"atlassian_timeout_ms", "500"}});
  site.host->holdLease("SOC-1");
  auto answer = site.merged("SOC-1 SOC-2");
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.message.find("SOC-1: another delivery is still moving it") != std::string::npos);
  CHECK(site.jira->status("SOC-1") == "To Do");
  CHECK(site.jira->status("SOC-2") == "In Progress");

  // Released while the next attempt waits: it goes on.
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    site.host->releaseLease("SOC-1");
  });
  CHECK(site.merged("SOC-1 SOC-2", "", 2).outcome == CONDUIT_OUTCOME_OK);
  other.join();
  CHECK(site.jira->status("SOC-1") == "In Progress");
}

TEST_CASE("processor: a lease an earlier attempt held when its process died is taken back") {
  Site site("{}", {}, {{"atlassian_timeout_ms", "500"}});
  // The earlier attempt: killed after sending the transition, which Jira never applied.
  site.host->holdLease("SOC-1", "token-of-the-dead", std::chrono::hours(1));
  site.host->setCheckpoint("lease:SOC-1", "token-of-the-dead");
  site.host->setCheckpoint("from:SOC-1", "To Do");
  site.host->setCheckpoint("target:SOC-1", "In Progress");
  const auto started = std::chrono::steady_clock::now();
  CHECK(site.merged("SOC-1", "", 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));  // no wait
  CHECK(site.logged("SOC-1: took back the lease an earlier attempt held"));
  CHECK(site.jira->transitionHistory("SOC-1") == std::vector<std::string>{"Start work"});
  CHECK_FALSE(site.host->leaseHeld("SOC-1"));  // released at the end, as one taken now
}

TEST_CASE("processor: leases that cannot be taken (Redis down) are a retry") {
  Site site;
  site.host->failLeases(true);
  auto answer = site.merged("SOC-1");
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.message.find("SOC-1: the lease SOC-1 could not be taken") != std::string::npos);
  CHECK(site.jira->requestCount() == 0);
}

TEST_CASE("processor: a comment applied but its answer dropped is not posted twice") {
  Site site(R"({"comment":true})");
  site.jira->dropAnswerNext("POST", "/rest/api/2/issue/SOC-1/comment");
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_RETRY);
  REQUIRE(site.jira->comments("SOC-1").size() == 1);
  CHECK(site.merged("SOC-1", "", 2).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->comments("SOC-1").size() == 1);
  CHECK(site.logged("SOC-1: the comment of an earlier attempt is there; not posted again"));
  CHECK(site.jira->transitionsApplied("SOC-1") == 1);
}

TEST_CASE("processor: a comment that was not applied is posted on the retry - found past a page") {
  Site site(R"({"comment":true})");
  httplib::Client http(site.jira->url());
  http.set_basic_auth("dev@example.test", "simulator-token");
  for (int i = 0; i < 150; ++i) {  // more than one page of the plugin's
    REQUIRE(
        http.Post("/rest/api/2/issue/SOC-1/comment", R"({"body":"older"})", "application/json"));
  }
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/comment", 500);  // not applied
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_RETRY);
  site.jira->dropAnswerNext("POST", "/rest/api/2/issue/SOC-1/comment");  // applied, answer lost
  CHECK(site.merged("SOC-1", "", 2).outcome == CONDUIT_OUTCOME_RETRY);
  auto comments = site.jira->comments("SOC-1");
  REQUIRE(comments.size() == 151);
  CHECK(comments.back().find("~conduit:atlassian:github:delivery-1~") != std::string::npos);
  // The third attempt finds it, on the plugin's second page, and posts nothing.
  CHECK(site.merged("SOC-1", "", 3).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->comments("SOC-1").size() == 151);
}

TEST_CASE("processor: past max_keys_per_event the first issues move - a warning counts the rest") {
  Site site(R"({"max_keys_per_event":2})");
  CHECK(site.merged("SOC-1 SOC-2 SOC-3 SOC-4 SOC-2").outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.jira->status("SOC-2") == "In Progress");
  CHECK(site.jira->status("SOC-3") == "To Do");
  CHECK(site.jira->status("SOC-4") == "To Do");
  CHECK(
      site.logged("names 4 issues: only the first 2 are handled (max_keys_per_event), 2 left "
                  "out"));
  CHECK(site.host->counter("jira.keys_left_out") == 2);
}

TEST_CASE("processor: a request's deadline holds for the whole answer - not each read") {
  // A server that trickles its answer a byte at a time, never pausing long enough for a read
  // timeout.
  httplib::Server trickle;
  trickle.Get(".*", [](const httplib::Request&, httplib::Response& response) {
    response.set_content_provider(1000, "application/json",
                                  [](size_t offset, size_t, httplib::DataSink& sink) {
                                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                                    return offset < 1000 && sink.write(" ", 1);
                                  });
  });
  const int port = trickle.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { trickle.listen_after_bind(); });
  while (!trickle.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    FakeHost host;
    host.setConfig("atlassian_domain_url", "http://127.0.0.1:" + std::to_string(port));
    host.setConfig("atlassian_pat", "x");
    host.setConfig("atlassian_timeout_ms", "700");
    PluginUnderTest plugin(conduit_plugin_entry_v1(), host);
    REQUIRE(plugin.configure("atlassian", "{}", {"SOC"}) == "");
    EventData event;
    event.title = "SOC-1";
    const auto started = std::chrono::steady_clock::now();
    auto answer = plugin.process(event);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
    CHECK(answer.message == "GET SOC-1: Jira did not answer within 700 ms (atlassian_timeout_ms)");
  }
  trickle.stop();
  serving.join();
}

TEST_CASE("processor: a key failed for good is not tried again when the event is retried") {
  Site site;
  site.jira->removeIssue("SOC-404");
  site.jira->failNext("GET", "/rest/api/2/issue/SOC-2", 500);
  CHECK(site.merged("SOC-404 SOC-2").outcome == CONDUIT_OUTCOME_RETRY);
  const int requests = site.jira->requestCount();
  auto second = site.merged("SOC-404 SOC-2", "", 2);
  CHECK(second.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(second.message.find("SOC-404: no such issue") != std::string::npos);
  CHECK(site.jira->requestCount() == requests + 2);  // GET and POST of SOC-2 only

  // Replayed (a first attempt again, with the same checkpoints) after the issue came back:
  // SOC-404 is tried again, SOC-2 is not moved again.
  site.jira->setStatus("SOC-404", "To Do");
  CHECK(site.merged("SOC-404 SOC-2", "", 1).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-404") == "In Progress");
  CHECK(site.jira->transitionsApplied("SOC-2") == 1);
}

TEST_CASE("processor: a comment Jira refuses is logged - the issue moved and the event is ok") {
  Site site(R"({"comment":true})");
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-1/comment", 403);
  CHECK(site.merged("SOC-1 SOC-2").outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.jira->comments("SOC-2").size() == 1);
  CHECK(site.logged("SOC-1: moved, but the comment was refused"));
}

TEST_CASE("processor: matched by name - the checkpoint keeps the status the transition reached") {
  Site site;
  site.host->addTransition("SOC", "To Do", "next", "start", "Start work");
  CHECK(site.merged("SOC-1").outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.host->checkpoint("target:SOC-1") == "In Progress");
  CHECK(site.host->checkpoint("from:SOC-1") == "To Do");
  CHECK(site.host->checkpoint("done:SOC-1") == "In Progress");
}

TEST_CASE("processor: an answer that is not what Jira sends is retried - never a crash") {
  httplib::Server odd;
  odd.Get(".*", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(R"({"fields":5,"transitions":[1,"x",{"id":7}]})", "application/json");
  });
  const int port = odd.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { odd.listen_after_bind(); });
  while (!odd.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    FakeHost host;
    host.setConfig("atlassian_domain_url", "http://127.0.0.1:" + std::to_string(port));
    host.setConfig("atlassian_pat", "x");
    PluginUnderTest plugin(conduit_plugin_entry_v1(), host);
    REQUIRE(plugin.configure("atlassian", "{}", {"SOC"}) == "");
    EventData event;
    event.title = "SOC-1";
    auto answer = plugin.process(event);
    CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
    CHECK(answer.message == "GET SOC-1: Jira's answer has no fields.status.name");
  }
  odd.stop();
  serving.join();
}

// ---- What the processor reports it did (ABI 1.2), for the delivery log: docs/jira.md. ----

namespace {

using conduit::sdk::testing::Report;

// "moved SOC-1 To Do>In Progress (Start work)" per action, to compare whole lists at once.
std::vector<std::string> summary(const std::vector<Report>& actions) {
  std::vector<std::string> lines;
  for (const auto& a : actions) {
    std::string line = a.get("action");
    for (const char* field : {"issue", "from", "to", "transition", "status", "reason"}) {
      if (a.fields.count(field)) line += std::string(" ") + field + "=" + a.get(field);
    }
    lines.push_back(line);
  }
  return lines;
}

using Lines = std::vector<std::string>;

// The lines of `summary` about `issue`, in order: the keys of an event are worked on in
// parallel, so the order holds within a key, not across keys.
Lines about(const Lines& lines, const std::string& issue) {
  Lines kept;
  for (const auto& line : lines) {
    if ((line + " ").find(" issue=" + issue + " ") != std::string::npos) kept.push_back(line);
  }
  return kept;
}

}  // namespace

TEST_CASE("processor reports: each issue moved - from - to - transition; a retry finds it there") {
  Site site;
  auto answer = site.merged("SOC-1 and DEVHOP-2: login");
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  const auto lines = summary(answer.actions);
  CHECK(lines.size() == 2);
  CHECK(about(lines, "SOC-1") ==
        Lines{"moved issue=SOC-1 from=To Do to=In Progress transition=Start work"});
  CHECK(about(lines, "DEVHOP-2") ==
        Lines{"moved issue=DEVHOP-2 from=To Do to=In Progress transition=Start work"});
  const auto& soc1 = answer.actions[answer.actions[0].get("issue") == "SOC-1" ? 0 : 1];
  CHECK(soc1.json == R"({"action":"moved","issue":"SOC-1","from":"To Do","to":"In Progress",)"
                     R"("transition":"Start work"})");
  auto again = site.merged("SOC-1 and DEVHOP-2: login", "", 2);
  const auto again_lines = summary(again.actions);
  CHECK(again_lines.size() == 2);
  CHECK(about(again_lines, "SOC-1") == Lines{"already_there issue=SOC-1 status=In Progress"});
  CHECK(about(again_lines, "DEVHOP-2") == Lines{"already_there issue=DEVHOP-2 status=In Progress"});
  CHECK(site.host->refusedReports().empty());
}

TEST_CASE("processor reports: <end> - and an issue already where the event leads") {
  Site site;
  site.jira->setStatus("SOC-1", "Done");
  site.jira->setStatus("SOC-2", "In Progress");
  // A machine whose `next` from In Progress stays there: moved by hand already.
  site.host->addTransition("SOC", "In Progress", "next", "in_progress", "In Progress");
  auto answer = site.merged("SOC-1 SOC-2");
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  const auto lines = summary(answer.actions);
  CHECK(lines.size() == 2);
  CHECK(about(lines, "SOC-1") == Lines{"end issue=SOC-1 status=Done"});
  CHECK(about(lines, "SOC-2") == Lines{"already_there issue=SOC-2 status=In Progress"});
  CHECK(site.jira->totalTransitionsApplied() == 0);
}

TEST_CASE("processor reports: an event with nothing to do is ignored - saying why") {
  Site site;
  EventData closed;
  closed.kind = "pull_request.closed";
  closed.title = "SOC-1";
  CHECK(summary(site.plugin->process(closed).actions) ==
        Lines{"ignored reason=pull request closed without merge"});
  EventData created;
  created.kind = "release.created";
  created.release_name = "SOC-1";
  CHECK(summary(site.plugin->process(created).actions) ==
        Lines{"ignored reason=release created: not a trigger of this worker"});
  EventData push;
  push.kind = "push";
  push.commit_messages = {"SOC-1 fix"};
  CHECK(summary(site.plugin->process(push).actions) ==
        Lines{"ignored reason=push: not a trigger of this worker"});
  auto none = site.merged("fix the typo in OTHER-1");
  CHECK(none.outcome == CONDUIT_OUTCOME_OK);
  // The projects as workers.yaml writes them.
  CHECK(summary(none.actions) == Lines{"ignored reason=no issue keys of projects soc, devhop"});
  CHECK(site.jira->requestCount() == 0);
}

TEST_CASE("processor reports: failed - with why - and again on the retry that does not try it") {
  Site site;
  site.jira->removeIssue("SOC-404");
  site.jira->failNext("GET", "/rest/api/2/issue/SOC-2", 500);
  auto first = site.merged("SOC-404 SOC-2");
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  // SOC-2 is to be retried: nothing reported for it yet.
  REQUIRE(first.actions.size() == 1);
  CHECK(first.actions[0].get("action") == "failed");
  CHECK(first.actions[0].get("issue") == "SOC-404");
  CHECK(first.actions[0].get("reason").find("SOC-404: no such issue") == 0);
  auto second = site.merged("SOC-404 SOC-2", "", 2);
  CHECK(second.outcome == CONDUIT_OUTCOME_FAILED);
  REQUIRE(second.actions.size() == 2);
  const auto lines = summary(second.actions);
  CHECK(about(lines, "SOC-404") ==
        Lines{"failed issue=SOC-404 reason=" + first.actions[0].get("reason")});
  CHECK(about(lines, "SOC-2") ==
        Lines{"moved issue=SOC-2 from=To Do to=In Progress transition=Start work"});
}

TEST_CASE("processor reports: refused credentials - the key it stopped at failed") {
  SimulatorOptions options;
  options.api_token = "another-token";
  Site site("{}", options);
  auto answer = site.merged("SOC-1 SOC-2");
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  REQUIRE(answer.actions.size() == 1);
  CHECK(answer.actions[0].get("action") == "failed");
  CHECK(answer.actions[0].get("issue") == "SOC-1");
  CHECK(answer.actions[0].get("reason").find("401") != std::string::npos);
}

TEST_CASE("processor reports: commented - and a refused comment is skipped with why") {
  Site site(R"({"comment":true})");
  site.jira->failNext("POST", "/rest/api/2/issue/SOC-2/comment", 403);
  auto answer = site.merged("SOC-1 SOC-2");
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  const auto lines = summary(answer.actions);
  CHECK(lines.size() == 4);
  CHECK(about(lines, "SOC-1") ==
        Lines{"moved issue=SOC-1 from=To Do to=In Progress transition=Start work",
              "commented issue=SOC-1"});
  const auto soc2 = about(lines, "SOC-2");
  REQUIRE(soc2.size() == 2);
  CHECK(soc2[0] == "moved issue=SOC-2 from=To Do to=In Progress transition=Start work");
  CHECK(soc2[1].find("skipped issue=SOC-2 reason=the comment was refused: ") == 0);
}

TEST_CASE("processor reports: a dry run skips each issue - saying what it would have done") {
  Site site(R"({"dry_run":true})");
  auto answer = site.merged("SOC-1");
  CHECK(summary(answer.actions) ==
        Lines{"skipped issue=SOC-1 reason=dry run: would move it from \"To Do\" to \"In "
              "Progress\" (transition \"Start work\")"});
}

TEST_CASE("processor reports: keys past max_keys_per_event are skipped - counted") {
  Site site(R"({"max_keys_per_event":2})");
  auto answer = site.merged("SOC-1 SOC-2 SOC-3 SOC-4");
  const auto lines = summary(answer.actions);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "skipped reason=2 more issue keys named past max_keys_per_event (2)");
  REQUIRE(about(lines, "SOC-1").size() == 1);
  CHECK(about(lines, "SOC-1")[0].find("moved issue=SOC-1 ") == 0);
  REQUIRE(about(lines, "SOC-2").size() == 1);
  CHECK(about(lines, "SOC-2")[0].find("moved issue=SOC-2 ") == 0);
}

TEST_CASE("processor reports: a transition whose answer was lost - moved when it was applied") {
  Site site;
  site.jira->dropAnswerNext("POST", "/rest/api/2/issue/SOC-1/transitions");
  auto answer = site.merged("SOC-1");
  CHECK(summary(answer.actions) ==
        Lines{"moved issue=SOC-1 from=To Do to=In Progress transition=Start work"});
}

TEST_CASE("processor reports: nothing against a conduit before ABI 1.2 - the work is the same") {
  Site site;
  site.host->poseAsAbiMinor(1);
  auto answer = site.merged("SOC-1");
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(answer.actions.empty());
  CHECK(site.jira->status("SOC-1") == "In Progress");
}
