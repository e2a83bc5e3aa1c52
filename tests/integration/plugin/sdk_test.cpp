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
