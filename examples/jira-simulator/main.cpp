// conduit-jira-simulator: the Jira simulator as a program, for `make run` and for trying the
// Jira plugin by hand. README.md describes it.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "jira_simulator.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr const char* kUsage =
    "usage: conduit-jira-simulator [--bind ADDR] [--port N] [--email E] [--token T] [--pat P]\n"
    "                              [--delay-ms N] [--fault-rate F] [--fault-seed N]\n"
    "                              [--fault-hang-ms N]\n"
    "  --bind ADDR    address to listen on (default 127.0.0.1)\n"
    "  --port N       port to listen on, 0 for any free one (default 9095)\n"
    "  --email E      Jira Cloud account for Basic auth (default dev@example.test)\n"
    "  --token T      its API token (default simulator-token)\n"
    "  --pat P        Jira Data Center instead: accept only Authorization: Bearer P\n"
    "  --delay-ms N   milliseconds added to every answer (default 0)\n"
    "  --fault-rate F the share of REST requests, 0 to 1, that get a fault: in turn a 429,\n"
    "                 a 500, a hang then 500, and an answer dropped after the change was\n"
    "                 applied (default 0)\n"
    "  --fault-seed N seed of the random faults (default 1)\n"
    "  --fault-hang-ms N  how long a hang holds its answer (default 15000)\n";

std::optional<int> parseNumber(std::string_view text, int max) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

// Fills `options` from the command line; false on anything it does not understand.
bool parseArguments(int argc, char** argv, conduit::jira_simulator::SimulatorOptions& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) return false;  // every option takes a value
    const std::string value = argv[++i];
    if (name == "--bind") {
      options.bind = value;
    } else if (name == "--port") {
      auto port = parseNumber(value, 65535);
      if (!port) return false;
      options.port = *port;
    } else if (name == "--email") {
      options.email = value;
    } else if (name == "--token") {
      options.api_token = value;
    } else if (name == "--pat") {
      options.pat = value;
    } else if (name == "--fault-rate") {
      char* end = nullptr;
      const double rate = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(rate >= 0 && rate <= 1)) return false;
      options.fault_rate = rate;
    } else if (name == "--fault-seed") {
      uint64_t seed = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seed);
      if (error != std::errc() || end != value.data() + value.size()) return false;
      options.fault_seed = seed;
    } else if (name == "--fault-hang-ms") {
      auto hang = parseNumber(value, 3'600'000);
      if (!hang) return false;
      options.fault_hang = std::chrono::milliseconds(*hang);
    } else if (name == "--delay-ms") {
      auto delay = parseNumber(value, 3'600'000);
      if (!delay) return false;
      options.delay = std::chrono::milliseconds(*delay);
    } else {
      return false;
    }
  }
  return true;
}

void printLine(const std::string& line) {
  fmt::print("{}\n", line);
  std::fflush(stdout);  // a line at a time, also when stdout is a pipe to a log
}

}  // namespace

int main(int argc, char** argv) {
  conduit::jira_simulator::SimulatorOptions options;
  options.port = 9095;
  if (!parseArguments(argc, argv, options)) {
    fmt::print(stderr, "{}", kUsage);
    return kExitUsage;
  }
  options.log = printLine;

  // Blocked here, before the server threads start, so that every thread inherits the mask and
  // the signals reach sigwait() below instead of killing the process mid-answer.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a client hanging up mid-answer must not kill the simulator

  conduit::jira_simulator::JiraSimulator simulator(options);
  try {
    simulator.start();
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}\n", e.what());  // names the simulator and the address
    return kExitFailure;
  }
  std::string projects;
  for (const auto& project : options.projects)
    projects += (projects.empty() ? "" : ", ") + project;
  const std::string auth = options.pat.empty() ? "Basic auth as " + options.email
                                               : std::string("Bearer auth with the --pat token");
  const std::string delay =
      options.delay.count() > 0 ? fmt::format("; {} ms delay", options.delay.count()) : "";
  const std::string faults =
      options.fault_rate > 0
          ? fmt::format("; faults in {} of requests (seed {}, hangs {} ms)", options.fault_rate,
                        options.fault_seed, options.fault_hang.count())
          : "";
  printLine(fmt::format("Jira simulator on {}: projects {}; {}{}{}", simulator.url(), projects,
                        auth, delay, faults));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  simulator.stop();
  return kExitOk;
}
