#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace conduit::testing {

// A child process (the real `conduit` binary) with its output captured to files.
class Process {
 public:
  // Starts `argv` in `cwd` with the test's environment plus `extra_env` (a value of nullopt
  // removes the variable).
  Process(const std::vector<std::string>& argv,
          const std::map<std::string, std::optional<std::string>>& extra_env = {},
          const std::string& cwd = "");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Waits for the exit status, killing the process if it runs past `timeout`.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool running();
  void signal(int number);

  std::string standardOutput() const;
  std::string standardError() const;

 private:
  std::string directory_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Runs `argv` to the end and returns its exit status.
int runToEnd(const std::vector<std::string>& argv, std::string* out = nullptr,
             std::string* err = nullptr,
             const std::map<std::string, std::optional<std::string>>& extra_env = {});

// The whole contents of a file; empty when it cannot be read.
std::string readFile(const std::string& path);

// A loopback port nothing listens on right now.
int freeLoopbackPort();

// Polls `ready` every 20 ms for up to `timeout`.
template <typename Predicate>
bool eventually(Predicate ready, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace conduit::testing

#include <thread>

template <typename Predicate>
bool conduit::testing::eventually(Predicate ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}
