// The C++ SDK and its FakeHost, through real plugins built with them and loaded from .so files.
#include <conduit/testing.hpp>

#include <doctest/doctest.h>

#include "plugin/plugin_library.hpp"

using conduit::plugin::PluginLibrary;
using conduit::sdk::testing::EventData;
using conduit::sdk::testing::FakeHost;
using conduit::sdk::testing::PluginUnderTest;

namespace {

const std::string kPlugins = CONDUIT_TEST_PLUGIN_DIR;

}  // namespace

TEST_CASE("sdk: an exception from process() becomes RETRY with its message - never crosses") {
  auto library = PluginLibrary::load(kPlugins, "throws_from_process");
  FakeHost host;
  PluginUnderTest plugin(&library.descriptor(), host);
  auto answer = plugin.process(EventData{});
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.message == "uncaught exception: the processor exploded");
}

TEST_CASE("sdk: the descriptor the macro writes") {
  auto library = PluginLibrary::load(kPlugins, "sdk_echo");
  const auto& d = library.descriptor();
  CHECK(std::string(d.version) == "2.1.0");
  CHECK(d.capabilities == CONDUIT_CAPABILITY_THREAD_SAFE);
  REQUIRE(d.config_keys != nullptr);
  CHECK(std::string(d.config_keys[0]) == "echo_greeting");
  CHECK(d.config_keys[1] == nullptr);
  auto plain = PluginLibrary::load(kPlugins, "throws_from_process");
  CHECK(plain.descriptor().config_keys == nullptr);
}

TEST_CASE("sdk: configure() refusals come back as the plugin's message") {
  auto library = PluginLibrary::load(kPlugins, "sdk_echo");
  FakeHost host;
  PluginUnderTest plugin(&library.descriptor(), host);
  CHECK(plugin.configure("echo", "{}", {}) == "sdk_echo needs at least one project");
  CHECK(plugin.configure("echo", "{}", {"SOC"}).empty());
}

TEST_CASE("sdk: every host service reaches the plugin - and every outcome comes back") {
  auto library = PluginLibrary::load(kPlugins, "sdk_echo");
  FakeHost host;
  host.setConfig("echo_greeting", "hi");
  host.addTransition("SOC", "To Do", "next", "in_progress", "In Progress");
  PluginUnderTest plugin(&library.descriptor(), host);
  REQUIRE(plugin.configure("echo", "{}", {"SOC"}).empty());

  EventData merged;
  merged.title = "To Do";
  auto ok = plugin.process(merged);
  CHECK(ok.outcome == CONDUIT_OUTCOME_OK);
  CHECK(host.checkpoint("done") == "In Progress");
  CHECK(host.logs().back().second == "hi pull_request.merged");
  CHECK(host.counter("echo.events") == 1);

  EventData unknown;
  unknown.title = "Blocked";
  host.setConfig("unused", "");
  FakeHost fresh;  // no checkpoint yet
  PluginUnderTest second(&library.descriptor(), fresh);
  REQUIRE(second.configure("echo", "{}", {"SOC"}).empty());
  auto retry = second.process(unknown);
  CHECK(retry.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(retry.retry_after_ms == 3000);
  CHECK(retry.message == "no transition for SOC \"Blocked\" next in the FakeHost");

  EventData release;
  release.kind = "release.published";
  auto failed = second.process(release);
  CHECK(failed.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(failed.message == "releases are not for echo");

  // A checkpoint store that cannot be reached: the SDK's HostError becomes a RETRY.
  fresh.failCheckpoints(true);
  auto unreachable = second.process(merged);
  CHECK(unreachable.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(unreachable.message == "uncaught exception: the checkpoint store could not be read");
}

namespace {

using conduit::sdk::testing::Report;

// Host::report as a plugin calls it during process(), against a FakeHost.
struct Reporting {
  FakeHost fake;
  conduit::sdk::Host host{fake.api(), fake.handle()};
  conduit::sdk::Delivery delivery{host, reinterpret_cast<conduit_delivery*>(&fake)};
};

}  // namespace

TEST_CASE("sdk: Host::report writes the JSON - escaped - and FakeHost records it") {
  Reporting r;
  CHECK(r.host.hasReports());
  CHECK(r.host.report(r.delivery, "moved",
                      {{"issue", "SOC-1"},
                       {"from", std::string("To Do")},
                       {"to", std::string_view("In \"Progress\"")},
                       {"transition", "Start\\work\n\t\x01"},
                       {"count", 3},
                       {"big", uint64_t{18446744073709551615u}},
                       {"ratio", 0.25}}));
  CHECK(r.host.report(r.delivery, "ignored", {{"reason", "caf\xc3\xa9 \xff\xfe end"}}));
  CHECK(r.host.report(r.delivery, "end"));
  CHECK(r.host.report(r.delivery, "odd", {{"value", std::nan("")}}));
  const auto reports = r.fake.reports();
  REQUIRE(reports.size() == 4);
  CHECK(reports[0].json ==
        R"({"action":"moved","issue":"SOC-1","from":"To Do","to":"In \"Progress\"",)"
        R"("transition":"Start\\work\n\t\u0001","count":3,"big":18446744073709551615,)"
        R"("ratio":0.25})");
  CHECK(reports[0].get("to") == "In \"Progress\"");
  CHECK(reports[0].get("transition") == "Start\\work\n\t\x01");
  CHECK(reports[0].get("count") == "3");
  CHECK(reports[0].get("absent").empty());
  // Bytes that are not UTF-8 become U+FFFD: the host refuses invalid UTF-8.
  CHECK(reports[1].get("reason") == "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd end");
  CHECK(reports[2].json == R"({"action":"end"})");
  CHECK(reports[3].get("value") == "NaN");
  CHECK(r.fake.refusedReports().empty());
}

TEST_CASE("sdk: reportJson - FakeHost refuses what the host refuses - and 200 per call") {
  Reporting r;
  CHECK(r.host.reportJson(r.delivery, R"({"action":"commented","issue":"SOC-9","n":-1.5e3})"));
  CHECK(r.fake.reports().back().get("n") == "-1.5e3");
  CHECK_FALSE(r.host.reportJson(r.delivery, R"({"issue":"SOC-9"})"));
  CHECK_FALSE(r.host.reportJson(r.delivery, R"({"action":1})"));
  CHECK_FALSE(r.host.reportJson(r.delivery, R"({"action":"moved","to":{"a":1}})"));
  CHECK_FALSE(r.host.reportJson(r.delivery, R"({"action":"moved","ok":true})"));
  CHECK_FALSE(r.host.reportJson(r.delivery, R"({"action":"moved","action":"end"})"));
  CHECK_FALSE(r.host.reportJson(r.delivery, R"({"action":"moved"} x)"));
  CHECK_FALSE(r.host.reportJson(r.delivery, "{\"action\":\"\xc3\"}"));
  CHECK_FALSE(r.host.reportJson(r.delivery,
                                R"({"action":"moved","pad":")" + std::string(4096, 'x') + "\"}"));
  CHECK(r.host.reportJson(r.delivery, R"({"action":"moved","emoji":"\ud83d\ude00"})"));
  CHECK(r.fake.reports().back().get("emoji") == "\xf0\x9f\x98\x80");
  const auto refused = r.fake.refusedReports();
  REQUIRE(refused.size() == 8);
  CHECK(refused[0] == "no string member `action` naming what was done");
  CHECK(refused[2] == "the member `to` is neither a string nor a number");
  CHECK(refused[4] == "the member `action` twice");
  CHECK(refused[6] == "not valid UTF-8");
  CHECK(refused[7].find("bytes, more than 4096") != std::string::npos);

  r.fake.beginProcess();
  for (int i = 0; i < 200; ++i)
    REQUIRE(r.host.report(r.delivery, "commented", {{"n", i}}));
  CHECK_FALSE(r.host.report(r.delivery, "commented"));
  CHECK(r.fake.refusedReports().back() == "more than 200 in one process() call");
  r.fake.beginProcess();
  CHECK(r.host.report(r.delivery, "commented"));
}

TEST_CASE("sdk: against a conduit before ABI 1.2 - report does nothing and answers false") {
  Reporting r;
  r.fake.poseAsAbiMinor(1);
  CHECK_FALSE(r.host.hasReports());
  CHECK(r.host.hasLeases());
  CHECK_FALSE(r.host.report(r.delivery, "moved", {{"issue", "SOC-1"}}));
  CHECK_FALSE(r.host.reportJson(r.delivery, R"({"action":"moved"})"));
  r.fake.poseAsAbiMinor(0);
  CHECK_FALSE(r.host.hasLeases());
  CHECK_FALSE(r.host.report(r.delivery, "moved"));
  CHECK(r.fake.reports().empty());
  CHECK(r.fake.refusedReports().empty());
  r.fake.poseAsAbiMinor(2);
  CHECK(r.host.report(r.delivery, "moved"));
}

TEST_CASE("sdk: a real plugin's reports come back with its answer - per process() call") {
  auto library = PluginLibrary::load(kPlugins, "scripted");
  FakeHost host;
  const std::string log = "/dev/null";
  host.setConfig("scripted_log", log);
  PluginUnderTest plugin(&library.descriptor(), host);
  REQUIRE(plugin.configure("first", "{}", {}).empty());
  EventData event;
  event.title = "first=retry-once";
  event.body =
      "report first {\"action\":\"moved\",\"issue\":\"SOC-1\"}\n"
      "report second {\"action\":\"moved\",\"issue\":\"SOC-2\"}\n"
      "report first {\"action\":\"commented\",\"issue\":\"SOC-1\"}";
  auto retry = plugin.process(event);
  CHECK(retry.outcome == CONDUIT_OUTCOME_RETRY);
  REQUIRE(retry.actions.size() == 2);
  CHECK(retry.actions[0].get("action") == "moved");
  CHECK(retry.actions[1].get("action") == "commented");
  event.attempt = 2;
  auto ok = plugin.process(event);
  CHECK(ok.outcome == CONDUIT_OUTCOME_OK);
  CHECK(ok.actions.size() == 2);
  CHECK(host.reports().size() == 4);
}
