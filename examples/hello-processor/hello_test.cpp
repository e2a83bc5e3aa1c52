// Tests the hello processor with the SDK's FakeHost, without the daemon.
#include <cstdio>
#include <cstdlib>

#include <conduit/testing.hpp>

extern "C" const conduit_plugin_descriptor* conduit_plugin_entry_v1(void);

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  conduit::sdk::testing::FakeHost host;
  host.addTransition("SOC", "To Do", "next", "in_progress", "In Progress");
  conduit::sdk::testing::PluginUnderTest plugin(conduit_plugin_entry_v1(), host);
  check(plugin.configure("hello", "{}", {"SOC"}).empty(), "configure accepts one project");

  conduit::sdk::testing::EventData event;
  event.title = "SOC-12: fix the login";
  auto answer = plugin.process(event);
  check(answer.outcome == CONDUIT_OUTCOME_OK, "process answers OK");
  check(host.counter("hello.events") == 1, "one event counted");
  check(host.logs().size() == 2, "two log lines");
  check(host.logs().back().second == "hello: To Do moves to In Progress", "the next status");
  std::printf("%s\n", failures == 0 ? "hello_test: 1 passed, 0 failed" : "hello_test: failed");
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
