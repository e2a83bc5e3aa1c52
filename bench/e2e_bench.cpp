// The whole flow under load, driven by bench/e2e.sh: signed merged pull requests into a real
// `conduit run`, through Redis and jira.so, to the Jira simulator (in this process), which
// answers every call after a delay, as a real Jira would.
//
//   conduit_e2e_bench CONDUIT_BINARY REDIS_URL WORK_DIR
//   env: COUNT (pull requests, 1000), KEYS (issues each, 3), DELAY_MS (50), SAMPLES (20),
//        CONCURRENCY (worker_concurrency, 16), KEY_CONCURRENCY (the worker's `concurrency`, as
//        e2e.sh wrote it into workers.yaml; for the summary only)
//
// 1. Load: COUNT pull requests, each naming KEYS issues of its own, posted as fast as four
//    senders can. Reports issues moved per second, p50 and p99 from each delivery's acceptance
//    (its 202) to its last transition, and checks that every issue moved exactly once.
// 2. Idle: SAMPLES pull requests one at a time, each naming one issue: from the 202 to the
//    transition.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <openssl/hmac.h>

#include "jira_simulator.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

int envInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : fallback;
}

std::string hmacHex(const std::string& key, const std::string& body) {
  unsigned char digest[32];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &size);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<size_t>(p / 100 * static_cast<double>(values.size()));
  return values[std::min(values.size() - 1, index)];
}

// When each issue moved, from the simulator's log lines ("SOC-12: To Do -> In Progress ...").
class MoveClock {
 public:
  void record(const std::string& line) {
    const size_t colon = line.find(": ");
    if (colon == std::string::npos || line.find(" -> ") == std::string::npos) return;
    std::lock_guard lock(mutex_);
    moved_[line.substr(0, colon)] = Clock::now();
  }
  std::optional<Clock::time_point> at(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = moved_.find(key);
    if (it == moved_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, Clock::time_point> moved_;
};

class Conduit {
 public:
  Conduit(const std::string& binary, const std::string& config, const std::string& log) {
    std::vector<std::string> args = {binary, "run", "--config", config};
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("cannot start " + binary);
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Conduit() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CONDUIT_BINARY REDIS_URL WORK_DIR\n", argv[0]);
    return 2;
  }
  const std::string binary = argv[1], redis_url = argv[2], dir = argv[3];
  const int count = envInt("COUNT", 1000), keys = envInt("KEYS", 3);
  const int samples = envInt("SAMPLES", 20), concurrency = envInt("CONCURRENCY", 16);
  const auto delay = std::chrono::milliseconds(envInt("DELAY_MS", 50));

  MoveClock moves;
  conduit::jira_simulator::SimulatorOptions options;
  options.delay = delay;
  options.projects = {"SOC"};
  options.threads = 128;
  options.log = [&moves](const std::string& line) { moves.record(line); };
  conduit::jira_simulator::JiraSimulator jira(options);
  jira.start();

  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  const std::string config = dir + "/app.env";
  std::ofstream(config) << "bind=127.0.0.1\nport=" << port
                        << "\nlog_level=warn\nredis_url=" << redis_url
                        << "\nworker_concurrency=" << concurrency
                        << "\natlassian_domain_url=" << jira.url()
                        << "\natlassian_email=dev@example.test\n"
                        << "atlassian_api_key=simulator-token\n";
  Conduit conduit(binary, config, dir + "/conduit.log");
  httplib::Client api("127.0.0.1", port);
  for (int i = 0; i < 200; ++i) {
    if (auto pong = api.Get("/conduit/ping"); pong && pong->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto registered = api.Post("/conduit/webhooks/register",
                             R"({"provider":"github","repo_path":"acme/app","repo_id":"app"})",
                             "application/json");
  if (!registered || registered->status != 201) {
    std::fprintf(stderr, "cannot register a hook (see %s/conduit.log)\n", dir.c_str());
    return 1;
  }
  const std::string marker = "\"secret\":\"";
  const size_t at = registered->body.find(marker) + marker.size();
  const std::string secret = registered->body.substr(at, 64);

  // Posts pull request `n`, naming `names`; returns when it was accepted.
  auto deliver = [&](httplib::Client& client, int n, const std::vector<std::string>& names) {
    std::string title;
    for (const auto& name : names)
      title += name + " ";
    const std::string body = R"({"action":"closed","pull_request":{"title":")" + title +
                             R"(","merged":true,"html_url":"https://github.com/acme/app/pull/)" +
                             std::to_string(n) + R"(","merged_by":{"login":"bench"}}})";
    auto response = client.Post("/conduit/webhooks/github/app/payload",
                                {{"X-GitHub-Event", "pull_request"},
                                 {"X-GitHub-Delivery", "bench-" + std::to_string(n)},
                                 {"X-Hub-Signature-256", "sha256=" + hmacHex(secret, body)}},
                                body, "application/json");
    if (!response || response->status != 202) {
      std::fprintf(stderr, "delivery %d: not accepted\n", n);
      std::exit(1);
    }
    return Clock::now();
  };
  auto issuesOf = [&](int n, int per) {
    std::vector<std::string> names;
    for (int k = 0; k < per; ++k)
      names.push_back("SOC-" + std::to_string(n * per + k + 1));
    return names;
  };

  // 1. Load
  std::vector<Clock::time_point> accepted(count);
  std::atomic<int> next{0};
  std::vector<std::thread> senders;
  const auto start = Clock::now();
  for (int s = 0; s < 4; ++s) {
    senders.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      for (int n = next++; n < count; n = next++)
        accepted[n] = deliver(client, n, issuesOf(n, keys));
    });
  }
  for (auto& sender : senders)
    sender.join();
  const int expected = count * keys;
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  while (jira.totalTransitionsApplied() < expected && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // anything moved twice shows now

  std::vector<double> latencies;
  Clock::time_point last = start;
  int moved_once = 0;
  for (int n = 0; n < count; ++n) {
    Clock::time_point done = accepted[n];
    for (const auto& key : issuesOf(n, keys)) {
      moved_once += jira.transitionsApplied(key) == 1;
      if (auto when = moves.at(key)) done = std::max(done, *when);
    }
    last = std::max(last, done);
    latencies.push_back(std::chrono::duration<double, std::milli>(done - accepted[n]).count());
  }
  const double seconds = std::chrono::duration<double>(last - start).count();

  // 2. Idle
  std::vector<double> first_moves;
  httplib::Client client("127.0.0.1", port);
  for (int i = 0; i < samples; ++i) {
    const int n = count * keys + i;  // issue numbers of their own
    const std::string key = "SOC-" + std::to_string(n + 1);
    const auto sent = deliver(client, count + i, {key});
    std::optional<Clock::time_point> when;
    while (!(when = moves.at(key)) && Clock::now() - sent < std::chrono::seconds(10))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (when)
      first_moves.push_back(std::chrono::duration<double, std::milli>(*when - sent).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  std::printf(
      "| issues moved/s | acceptance to last transition: p50 | p99 | moved exactly once | "
      "idle: first transition p50 | max |\n|---|---|---|---|---|---|\n");
  std::printf("| %.0f | %.0f ms | %.0f ms | %d of %d | %.0f ms | %.0f ms |\n", expected / seconds,
              percentile(latencies, 50), percentile(latencies, 99), moved_once, expected,
              percentile(first_moves, 50), percentile(first_moves, 100));
  std::printf(
      "\n%d pull requests x %d issues, Jira answering after %lld ms, worker_concurrency=%d, "
      "concurrency=%s; %d Jira requests in all\n",
      count, keys, static_cast<long long>(delay.count()), concurrency,
      std::getenv("KEY_CONCURRENCY") != nullptr ? std::getenv("KEY_CONCURRENCY") : "4 (default)",
      jira.requestCount());
  return moved_once == expected ? 0 : 1;
}
