#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>

#include <spdlog/spdlog.h>
#include <filesystem>

int main(int argc, char** argv) {
  // The server's access log would drown the test report; CONDUIT_TEST_LOG=debug brings it back.
  const char* level = std::getenv("CONDUIT_TEST_LOG");
  spdlog::set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::warn);
  ::signal(SIGPIPE, SIG_IGN);
  // The loader refuses plugins (and folders) that group or others may write; under a umask of
  // 002 the build would leave the test plugins so. Close them, as an installation would.
  std::error_code ignored;
  for (const char* dir : {CONDUIT_TEST_PLUGIN_DIR, CONDUIT_BUILT_PLUGIN_DIR}) {
    std::filesystem::permissions(dir, std::filesystem::perms(0755), ignored);
    for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
      std::filesystem::permissions(entry.path(), std::filesystem::perms(0755), ignored);
    }
  }
  doctest::Context context(argc, argv);
  return context.run();
}
