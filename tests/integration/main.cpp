#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
  // The server's access log would drown the test report; CONDUIT_TEST_LOG=debug brings it back.
  const char* level = std::getenv("CONDUIT_TEST_LOG");
  spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::warn);
  ::signal(SIGPIPE, SIG_IGN);
  doctest::Context context(argc, argv);
  return context.run();
}
