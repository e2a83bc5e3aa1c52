// Fix versions from releases: the name, the version found or made in each project, the issues'
// fix versions; each Jira error answer of each call; never twice (retries, replays, a second
// release of the tag, two threads and two processes at once). Through the plugin's C entry
// point against the Jira simulator.
#include <chrono>
#include <thread>

#include "fix_versions.hpp"
#include "jira_site.hpp"

using conduit::jira::releaseDateOf;
using conduit::jira::versionNameOf;
using conduit::jira::testing::EventData;
using conduit::jira::testing::JiraSite;
using conduit::jira::testing::SimulatorOptions;

namespace {

constexpr const char* kFixVersions = R"({"fix_versions":true})";
// The release moves nothing: fix versions only.
constexpr const char* kFixVersionsOnly =
    R"({"fix_versions":true,"triggers":{"release.published":null,"pull_request.merged":"next"}})";

EventData release(const std::string& tag, const std::string& name, const std::string& body = "",
                  uint32_t attempt = 1) {
  EventData event;
  event.kind = "release.published";
  event.tag = tag;
  event.release_name = name;
  event.release_body = body;
  event.url = "https://github.com/org/repo/releases/tag/" + tag;
  event.repository = "org/repo";
  event.released_at = "2026-03-04T21:23:34Z";
  event.author = "alice";
  event.attempt = attempt;
  return event;
}

// A conduit_event over `data`'s strings, for the functions that read one.
struct RawEvent {
  explicit RawEvent(const EventData& data) {
    event.struct_size = sizeof event;
    event.kind = conduit::sdk::str(data.kind);
    event.repo_path = conduit::sdk::str(data.repo_path);
    event.release_name = conduit::sdk::str(data.release_name);
    event.repository = conduit::sdk::str(data.repository);
    event.tag = conduit::sdk::str(data.tag);
  }
  conduit_event event{};
};

}  // namespace

TEST_CASE("fix versions: the name from fix_version_name's placeholders") {
  EventData data = release("v1.4.0", "Spring");
  RawEvent raw(data);
  conduit::sdk::Event event(raw.event);
  CHECK(versionNameOf("{tag}", event).name == "v1.4.0");
  CHECK(versionNameOf("{repo} {tag} ({name})", event).name == "org/repo v1.4.0 (Spring)");
  // A value holding a placeholder is not expanded again.
  data.release_name = "{tag}";
  RawEvent braces(data);
  CHECK(versionNameOf("{name}", conduit::sdk::Event(braces.event)).name == "{tag}");
  // One line, trimmed, as Jira keeps names.
  data.release_name = "  two\nlines\t";
  RawEvent lines(data);
  CHECK(versionNameOf("{name}", conduit::sdk::Event(lines.event)).name == "two lines");
  // The hook's path when the payload names no repository.
  data.repository = "";
  RawEvent hook(data);
  CHECK(versionNameOf("{repo}", conduit::sdk::Event(hook.event)).name == "org/repo");

  data.release_name = "";
  RawEvent empty(data);
  auto none = versionNameOf("{name}", conduit::sdk::Event(empty.event));
  CHECK(none.name.empty());
  CHECK(none.error.find("comes out empty") != std::string::npos);
  data.tag = std::string(250, 'v');
  RawEvent longer(data);
  auto too_long = versionNameOf("{tag}-{tag}", conduit::sdk::Event(longer.event));
  CHECK(too_long.name.empty());
  CHECK(too_long.error.find("501 bytes long, over Jira's 255") != std::string::npos);
  CHECK(versionNameOf(std::string(255, 'x'), conduit::sdk::Event(longer.event)).error.empty());
}

TEST_CASE("fix versions: the release date as the host wrote it, else today in UTC") {
  const auto now = std::chrono::system_clock::from_time_t(1767225599);  // 2025-12-31 23:59:59Z
  CHECK(releaseDateOf("2026-03-04T21:23:34Z", now) == "2026-03-04");
  CHECK(releaseDateOf("2026-03-04T23:30:00-05:00", now) == "2026-03-04");
  CHECK(releaseDateOf("2021-02-25 21:23:34 UTC", now) == "2021-02-25");
  CHECK(releaseDateOf("2021-02-25", now) == "2021-02-25");
  CHECK(releaseDateOf("", now) == "2025-12-31");
  CHECK(releaseDateOf("yesterday", now) == "2025-12-31");
  CHECK(releaseDateOf("2021-02-2x", now) == "2025-12-31");
}

TEST_CASE("fix versions: a release makes its version in each project and gives it to each issue") {
  JiraSite site(kFixVersions);
  site.makeVersion("SOC", "v0.9.0");
  auto answer = site.plugin->process(release("v1.0.0", "First", "SOC-1, SOC-2 and DEVHOP-3"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  // Moved as before, and given the version, which is released on the release's day.
  CHECK(site.jira->status("SOC-1") == "In Progress");
  CHECK(site.versions("SOC") ==
        std::map<std::string, std::string>{{"v0.9.0", ""}, {"v1.0.0", "2026-03-04"}});
  CHECK(site.versions("DEVHOP") == std::map<std::string, std::string>{{"v1.0.0", "2026-03-04"}});
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.fixVersions("SOC-2") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.fixVersions("DEVHOP-3") == std::vector<std::string>{"v1.0.0"});
  CHECK(JiraSite::countReports(answer, "version_created") == 2);
  CHECK(JiraSite::countReports(answer, "fix_version") == 3);
  CHECK(site.host->checkpoint("fixversion:SOC-2") == "v1.0.0");
  CHECK(site.host->counter("jira.versions_created") == 2);
  CHECK(site.logged("SOC: made the version \"v1.0.0\" (released 2026-03-04)"));
  bool reported = false;
  for (const auto& report : answer.actions) {
    if (report.get("action") == "version_created" && report.get("project") == "SOC") {
      reported = report.get("version") == "v1.0.0";
    }
  }
  CHECK(reported);
}

TEST_CASE("fix versions: an issue keeps the fix versions it has") {
  JiraSite site(kFixVersionsOnly);
  site.makeVersion("SOC", "v0.9.0");
  site.plugin->process(release("v0.9.0", "", "SOC-1"));
  site.nextDelivery();
  CHECK(site.plugin->process(release("v1.0.0", "", "SOC-1")).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v0.9.0", "v1.0.0"});
}

TEST_CASE("fix versions: a retry, a replay and a second release of the tag change nothing") {
  JiraSite site(kFixVersions);
  CHECK(site.plugin->process(release("v1.0.0", "", "SOC-1 SOC-2")).outcome == CONDUIT_OUTCOME_OK);
  const int requests = site.jira->requestCount();
  // The same delivery again: its checkpoints say all is done; Jira is not even asked.
  auto retry = site.plugin->process(release("v1.0.0", "", "SOC-1 SOC-2", 2));
  CHECK(retry.outcome == CONDUIT_OUTCOME_OK);
  CHECK(JiraSite::countReports(retry, "version_created") == 0);
  CHECK(JiraSite::countReports(retry, "fix_version") == 0);

  // Another delivery of a release of the same tag (edited and published again, say).
  site.nextDelivery();
  auto second = site.plugin->process(release("v1.0.0", "Renamed", "SOC-1 SOC-2 SOC-3"));
  CHECK(second.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.versionCount("SOC") == 1);
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.fixVersions("SOC-3") == std::vector<std::string>{"v1.0.0"});
  CHECK(JiraSite::countReports(second, "version_created") == 0);
  CHECK(JiraSite::countReports(second, "fix_version") == 1);  // SOC-3's
  CHECK(site.logged("SOC-1 has the fix version \"v1.0.0\" already"));
  CHECK(site.jira->requestCount() > requests);
}

TEST_CASE("fix versions: a version differing only in case is the one used") {
  JiraSite site(kFixVersionsOnly);
  site.makeVersion("SOC", "V1.0.0");
  CHECK(site.plugin->process(release("v1.0.0", "", "SOC-1")).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.versionCount("SOC") == 1);
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"V1.0.0"});
}

TEST_CASE("fix versions: alone, with a release mapped to nothing - or with no release trigger") {
  JiraSite site(kFixVersionsOnly);
  auto answer = site.plugin->process(release("v1.0.0", "", "SOC-1"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.jira->status("SOC-1") == "To Do");
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});

  JiraSite other(R"({"fix_versions":true,"triggers":{"pull_request.merged":"next"}})");
  auto untriggered = other.plugin->process(release("v2.0.0", "", "SOC-1"));
  CHECK(untriggered.outcome == CONDUIT_OUTCOME_OK);
  CHECK(JiraSite::countReports(untriggered, "ignored") == 0);
  CHECK(other.fixVersions("SOC-1") == std::vector<std::string>{"v2.0.0"});
  CHECK(other.jira->status("SOC-1") == "To Do");
}

TEST_CASE("fix versions: off by default; a tag only where `tag` is a trigger") {
  JiraSite site("{}");
  site.plugin->process(release("v1.0.0", "", "SOC-1"));
  CHECK(site.versionCount("SOC") == 0);

  EventData tag;
  tag.kind = "tag";
  tag.tag = "SOC-7-v1";
  JiraSite untagged(kFixVersions);
  CHECK(untagged.plugin->process(tag).outcome == CONDUIT_OUTCOME_OK);
  CHECK(untagged.versionCount("SOC") == 0);

  JiraSite tagged(R"({"fix_versions":true,"triggers":{"tag":""}})");
  CHECK(tagged.plugin->process(tag).outcome == CONDUIT_OUTCOME_OK);
  CHECK(tagged.fixVersions("SOC-7") == std::vector<std::string>{"SOC-7-v1"});
}

TEST_CASE("fix versions: a name that comes out empty or too long fails the event's - no crash") {
  JiraSite site(R"({"fix_versions":true,"fix_version_name":"{name}"})");
  auto answer = site.plugin->process(release("v1.0.0", "", "SOC-1"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("SOC-1: no fix version: fix_version_name \"{name}\" comes out empty") ==
        0);
  CHECK(JiraSite::countReports(answer, "failed") == 1);
  CHECK(site.jira->status("SOC-1") == "In Progress");  // the move is not held back
  CHECK(site.versionCount("SOC") == 0);

  JiraSite longer(R"({"fix_versions":true,"fix_version_name":"{name}"})");
  auto too_long = longer.plugin->process(release("v1", std::string(256, 'n'), "SOC-1"));
  CHECK(too_long.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(too_long.message.find("256 bytes long, over Jira's 255") != std::string::npos);
}

TEST_CASE("fix versions: dry_run makes and gives nothing") {
  JiraSite site(R"({"fix_versions":true,"dry_run":true})");
  CHECK(site.plugin->process(release("v1.0.0", "", "SOC-1")).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.versionCount("SOC") == 0);
  CHECK(site.logged("dry run: would give SOC-1 the fix version \"v1.0.0\""));
}

// ---- each Jira error answer of each call ----

TEST_CASE("fix versions: 401 on the versions' list fails the delivery at once") {
  // One issue at a time: with more, SOC-2's work may be under way when SOC-1's 401 comes, and
  // ends as it would have.
  JiraSite site(R"({"fix_versions":true,"concurrency":1,"triggers":{"release.published":null}})");
  site.jira->failNext("GET", "/rest/api/2/project/SOC/versions", 401);
  auto answer = site.plugin->process(release("v1.0.0", "", "SOC-1 SOC-2"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("GET SOC versions: Jira answered 401") == 0);
  CHECK(site.logged("Jira refused the credentials of dev@example.test"));
  CHECK(site.fixVersions("SOC-2").empty());
}

TEST_CASE("fix versions: 403 on making the version names the permission it needs") {
  JiraSite site(kFixVersionsOnly);
  site.jira->failNext("POST", "/rest/api/2/version", 403);
  auto answer = site.plugin->process(release("v1.0.0", "", "SOC-1"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("403") != std::string::npos);
  CHECK(answer.message.find("\"Administer projects\"") != std::string::npos);
  CHECK(site.versionCount("SOC") == 0);
}

TEST_CASE("fix versions: 404 for the project fails its issues - the others go on") {
  JiraSite site(kFixVersionsOnly);
  site.jira->failNext("GET", "/rest/api/2/project/SOC/versions", 404);
  auto answer = site.plugin->process(release("v1.0.0", "", "SOC-1 DEVHOP-2"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("SOC: not found") != std::string::npos);
  CHECK(site.fixVersions("DEVHOP-2") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.host->checkpoint("fixversion-failed:SOC-1").has_value());
  // The retry does not try SOC-1 again, and still names it.
  auto retry = site.plugin->process(release("v1.0.0", "", "SOC-1 DEVHOP-2", 2));
  CHECK(retry.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(site.versionCount("SOC") == 0);
}

TEST_CASE("fix versions: a short Retry-After is waited out; a long one is the retry's wait") {
  JiraSite site(kFixVersionsOnly);
  site.jira->failNext("POST", "/rest/api/2/version", 429, 1, 1);
  CHECK(site.plugin->process(release("v1.0.0", "", "SOC-1")).outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});

  JiraSite slow(kFixVersionsOnly);
  slow.jira->failNext("PUT", "/rest/api/2/issue/SOC-1", 429, 1, 30);
  auto answer = slow.plugin->process(release("v1.0.0", "", "SOC-1"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.retry_after_ms > 29000);
  CHECK(answer.message.find("PUT SOC-1 fix version \"v1.0.0\": Jira answered 429") == 0);
}

TEST_CASE("fix versions: 500 and 503 are retried - and make one version") {
  JiraSite site(kFixVersionsOnly);
  site.jira->failNext("POST", "/rest/api/2/version", 500);
  site.jira->failNext("GET", "/rest/api/2/issue/SOC-2", 503);
  auto first = site.plugin->process(release("v1.0.0", "", "SOC-1 SOC-2"));
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  auto second = site.plugin->process(release("v1.0.0", "", "SOC-1 SOC-2", 2));
  CHECK(second.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.versionCount("SOC") == 1);
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.fixVersions("SOC-2") == std::vector<std::string>{"v1.0.0"});
}

TEST_CASE("fix versions: Jira's 400 on the issue fails it for good with Jira's words") {
  JiraSite site(kFixVersionsOnly);
  site.jira->failNext("PUT", "/rest/api/2/issue/SOC-1", 400);
  auto answer = site.plugin->process(release("v1.0.0", "", "SOC-1 SOC-2"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("PUT SOC-1 fix version \"v1.0.0\": Jira answered 400 (") == 0);
  CHECK(site.fixVersions("SOC-2") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.fixVersions("SOC-1").empty());
}

TEST_CASE("fix versions: a 400 on making the version that is not a duplicate fails for good") {
  JiraSite site(kFixVersionsOnly);
  site.jira->failNext("POST", "/rest/api/2/version", 400);
  auto answer = site.plugin->process(release("v1.0.0", "", "SOC-1"));
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("SOC: the version \"v1.0.0\" could not be made: ") == 0);
  CHECK(site.versionCount("SOC") == 0);
}

TEST_CASE("fix versions: a timeout and a lost answer are retried - one version, given once") {
  JiraSite site(kFixVersionsOnly, {}, {{"atlassian_timeout_ms", "500"}});
  site.jira->hangNext("GET", "/rest/api/2/project/SOC/versions", std::chrono::seconds(3));
  auto first = site.plugin->process(release("v1.0.0", "", "SOC-1"));
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(first.message.find("did not answer within 500 ms") != std::string::npos);

  // Made, its answer lost: the list read again finds it, within the same attempt.
  site.jira->dropAnswerNext("POST", "/rest/api/2/version");
  // Given, its answer lost: the next attempt reads the issue and finds it there.
  site.jira->dropAnswerNext("PUT", "/rest/api/2/issue/SOC-1");
  auto second = site.plugin->process(release("v1.0.0", "", "SOC-1", 2));
  CHECK(second.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(site.versionCount("SOC") == 1);
  CHECK(site.logged("SOC: the version \"v1.0.0\" was made meanwhile"));
  auto third = site.plugin->process(release("v1.0.0", "", "SOC-1", 3));
  CHECK(third.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.versionCount("SOC") == 1);
}

// ---- at once ----

TEST_CASE("fix versions: two threads of one process make one version - under its lease") {
  SimulatorOptions options;
  options.delay = std::chrono::milliseconds(150);  // so that both are in flight together
  JiraSite site(kFixVersionsOnly, options);
  // Two deliveries of one worker process: one host (its leases), two plugin instances.
  auto other = site.newPlugin(*site.host);
  auto first = release("v1.0.0", "", "SOC-1");
  auto second = release("v1.0.0", "", "SOC-2");
  second.delivery_id = "delivery-2";
  conduit::sdk::testing::PluginUnderTest::Answer a, b;
  std::thread one([&] { a = site.plugin->process(first); });
  std::thread two([&] { b = other->process(second); });
  one.join();
  two.join();
  CHECK(a.outcome == CONDUIT_OUTCOME_OK);
  CHECK(b.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.versionCount("SOC") == 1);
  // One host: its reports are both deliveries'.
  size_t created = 0;
  for (const auto& report : site.host->reports())
    created += report.get("action") == "version_created" ? 1 : 0;
  CHECK(created == 1);
  // The lease kept the second from trying to make it at all.
  CHECK_FALSE(site.logged("was made meanwhile"));
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.fixVersions("SOC-2") == std::vector<std::string>{"v1.0.0"});
}

TEST_CASE("fix versions: two processes at once make one version - Jira's 400 says it exists") {
  SimulatorOptions options;
  options.delay = std::chrono::milliseconds(300);  // both list the versions before either makes
  JiraSite site(kFixVersionsOnly, options);
  // Another worker process: its own host, so its own leases.
  auto other_host = site.newHost();
  auto other = site.newPlugin(*other_host);
  auto first = release("v1.0.0", "", "SOC-1");
  auto second = release("v1.0.0", "", "SOC-2");
  second.delivery_id = "delivery-2";
  conduit::sdk::testing::PluginUnderTest::Answer a, b;
  std::thread one([&] { a = site.plugin->process(first); });
  std::thread two([&] { b = other->process(second); });
  one.join();
  two.join();
  CHECK(a.outcome == CONDUIT_OUTCOME_OK);
  CHECK(b.outcome == CONDUIT_OUTCOME_OK);
  CHECK(site.versionCount("SOC") == 1);
  CHECK(JiraSite::countReports(a, "version_created") +
            JiraSite::countReports(b, "version_created") ==
        1);
  CHECK(
      (site.logged("was made meanwhile") || JiraSite::loggedIn(*other_host, "was made meanwhile")));
  CHECK(site.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});
  CHECK(site.fixVersions("SOC-2") == std::vector<std::string>{"v1.0.0"});
}
