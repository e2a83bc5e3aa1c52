// An event's issues moved in parallel (workers.yaml `concurrency`), and the requests of a worker
// process to one Jira site bounded by atlassian_max_requests_per_second: the whole processor,
// through its C entry point and the SDK's FakeHost, against the Jira simulator on a real socket,
// here behind a counting proxy that tells how many requests were in flight at once.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>
#include <conduit/testing.hpp>

#include "jira_client.hpp"
#include "jira_simulator.hpp"

extern "C" const conduit_plugin_descriptor* conduit_plugin_entry_v1();

using conduit::jira::JiraClient;
using conduit::jira::JiraFailure;
using conduit::jira::parseAddress;
using conduit::jira_simulator::JiraSimulator;
using conduit::jira_simulator::SimulatorOptions;
using conduit::sdk::testing::EventData;
using conduit::sdk::testing::FakeHost;
using conduit::sdk::testing::PluginUnderTest;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point started) {
  return std::chrono::duration<double>(Clock::now() - started).count();
}

// Passes every request on to `target` and counts the requests in flight: the most seen at once.
class CountingProxy {
 public:
  explicit CountingProxy(std::string target) : target_(std::move(target)) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    auto pass = [this](const httplib::Request& request, httplib::Response& response) {
      const int now = ++in_flight_;
      int seen = most_.load();
      while (now > seen && !most_.compare_exchange_weak(seen, now)) {
      }
      httplib::Client client(target_);
      httplib::Headers headers;
      for (const char* name : {"Authorization", "Accept"}) {
        if (request.has_header(name)) headers.emplace(name, request.get_header_value(name));
      }
      const std::string path = request.target;
      httplib::Result result = request.method == "GET"
                                   ? client.Get(path.c_str(), headers)
                                   : client.Post(path.c_str(), headers, request.body,
                                                 request.get_header_value("Content-Type").c_str());
      if (result) {
        response.status = result->status;
        for (const char* name : {"Retry-After"}) {
          if (result->has_header(name)) {
            response.set_header(name, result->get_header_value(name));
          }
        }
        response.set_content(result->body, result->get_header_value("Content-Type"));
      } else {
        response.status = 502;
      }
      --in_flight_;
    };
    server_.Get(".*", pass);
    server_.Post(".*", pass);
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~CountingProxy() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int mostInFlight() const { return most_.load(); }
  void resetMost() { most_ = 0; }

 private:
  std::string target_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> most_{0};
};

// A worker `atlassian` of projects SOC and DEVHOP, with its own host, as one worker process
// has it; `jira_url` is where it reaches Jira.
struct Worker {
  Worker(const std::string& jira_url, const std::string& worker_json = "{}",
         const std::map<std::string, std::string>& config = {}) {
    host.setConfig("atlassian_domain_url", jira_url);
    host.setConfig("atlassian_email", "dev@example.test");
    host.setConfig("atlassian_api_key", "simulator-token");
    for (const auto& [key, value] : config)
      host.setConfig(key, value);
    for (const std::string project : {"SOC", "DEVHOP"}) {
      host.addTransition(project, "To Do", "next", "in_progress", "In Progress");
      host.addTransition(project, "In Progress", "next", "done", "Done");
      host.addEnd(project, "Done", "next");
    }
    plugin = std::make_unique<PluginUnderTest>(conduit_plugin_entry_v1(), host);
    REQUIRE(plugin->configure("atlassian", worker_json, {"soc", "devhop"}) == "");
  }

  PluginUnderTest::Answer merged(const std::string& title, uint32_t attempt = 1,
                                 const std::string& delivery_id = "delivery-1") {
    EventData event;
    event.kind = "pull_request.merged";
    event.title = title;
    event.url = "https://github.com/org/repo/pull/7";
    event.author = "alice";
    event.attempt = attempt;
    event.delivery_id = delivery_id;
    return plugin->process(event);
  }

  FakeHost host;
  std::unique_ptr<PluginUnderTest> plugin;
};

// "SOC-1 SOC-2 ... SOC-n", from `first`.
std::string keys(int n, int first = 1) {
  std::string text;
  for (int i = first; i < first + n; ++i)
    text += "SOC-" + std::to_string(i) + " ";
  return text;
}

// The simulator's account, as JiraClient signs its requests.
conduit::jira::Credentials simulatorAccount() {
  return {"Basic " + conduit::jira::base64("dev@example.test:simulator-token"), "dev"};
}

SimulatorOptions delayed(std::chrono::milliseconds delay) {
  SimulatorOptions options;
  options.delay = delay;
  return options;
}

}  // namespace

TEST_CASE("parallel: an event's issues move concurrency at a time - about N/4 of the time") {
  // Each issue takes two calls of 50 ms, one after the other: 16 issues are 1.6 s one at a
  // time, 0.4 s four at a time.
  constexpr int kIssues = 16;
  const auto delay = std::chrono::milliseconds(50);
  JiraSimulator jira(delayed(delay));
  jira.start();
  CountingProxy proxy(jira.url());

  Worker serial(proxy.url(), R"({"concurrency":1})");
  auto started = Clock::now();
  CHECK(serial.merged(keys(kIssues)).outcome == CONDUIT_OUTCOME_OK);
  const double serial_s = secondsSince(started);
  CHECK(proxy.mostInFlight() == 1);
  CHECK(serial_s >= 0.9 * kIssues * 2 * 0.05);

  proxy.resetMost();
  Worker parallel(proxy.url());  // concurrency: 4, the default
  started = Clock::now();
  CHECK(parallel.merged(keys(kIssues, 101)).outcome == CONDUIT_OUTCOME_OK);
  const double parallel_s = secondsSince(started);
  CHECK(proxy.mostInFlight() == 4);  // never more; and as many as allowed
  // A quarter of the serial time ideally; at most half, however noisy the machine.
  CHECK(parallel_s < serial_s / 2);
  CHECK(parallel_s >= 0.9 * kIssues / 4 * 2 * 0.05);
  MESSAGE("16 issues at 50 ms per call: one at a time " << serial_s << " s, four at a time "
                                                        << parallel_s << " s");

  for (int i = 1; i <= kIssues; ++i) {
    CHECK(jira.transitionsApplied("SOC-" + std::to_string(i)) == 1);
    CHECK(jira.transitionsApplied("SOC-" + std::to_string(100 + i)) == 1);
  }
  CHECK(jira.totalTransitionsApplied() == 2 * kIssues);
  // Each moved, reported once, under its own lease.
  const auto reports = parallel.host.reports();
  CHECK(std::count_if(reports.begin(), reports.end(),
                      [](const auto& r) { return r.get("action") == "moved"; }) == kIssues);
  CHECK(parallel.host.leasesTaken().size() == kIssues);
  CHECK(parallel.host.checkpoint("done:SOC-116") == "In Progress");
}

TEST_CASE("parallel: never more than concurrency at once - 2, and 4 with fewer issues") {
  JiraSimulator jira(delayed(std::chrono::milliseconds(30)));
  jira.start();
  CountingProxy proxy(jira.url());
  Worker two(proxy.url(), R"({"concurrency":2})");
  CHECK(two.merged(keys(10)).outcome == CONDUIT_OUTCOME_OK);
  CHECK(proxy.mostInFlight() == 2);
  CHECK(jira.totalTransitionsApplied() == 10);

  // Three issues and room for four: three threads, not four.
  proxy.resetMost();
  Worker four(proxy.url());
  CHECK(four.merged(keys(3, 50)).outcome == CONDUIT_OUTCOME_OK);
  CHECK(proxy.mostInFlight() == 3);
}

TEST_CASE("parallel: one key's 404 stops no other - the event fails naming it") {
  JiraSimulator jira(delayed(std::chrono::milliseconds(10)));
  jira.start();
  jira.removeIssue("SOC-3");
  Worker worker(jira.url());
  auto answer = worker.merged(keys(8));
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("SOC-3: no such issue") == 0);
  for (int i = 1; i <= 8; ++i) {
    if (i != 3) CHECK(jira.status("SOC-" + std::to_string(i)) == "In Progress");
  }
  // Failed for good: the retry of the delivery does not ask for it again.
  const int requests = jira.requestCount();
  CHECK(worker.merged(keys(8), 2).outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(jira.requestCount() == requests);
}

TEST_CASE("parallel: refused credentials - no other key starts - failed for good") {
  SimulatorOptions options = delayed(std::chrono::milliseconds(50));
  options.api_token = "another-token";
  JiraSimulator jira(options);
  jira.start();
  Worker worker(jira.url());
  auto answer = worker.merged(keys(12));
  CHECK(answer.outcome == CONDUIT_OUTCOME_FAILED);
  CHECK(answer.message.find("401") != std::string::npos);
  // The four under way when the first refusal came were refused too; none started after.
  CHECK(jira.requestCount() == 4);
  CHECK(worker.host.counter("jira.credentials_refused") == 1);
  REQUIRE(!answer.actions.empty());
  CHECK(answer.actions.back().get("action") == "failed");
  CHECK(answer.actions.back().get("issue") == "SOC-1");  // the first key named
}

TEST_CASE("parallel: a retry keeps what was done - each issue moved once") {
  JiraSimulator jira(delayed(std::chrono::milliseconds(10)));
  jira.start();
  jira.failNext("POST", "/rest/api/2/issue/SOC-3/transitions", 500);
  jira.failNext("GET", "/rest/api/2/issue/SOC-6", 503, 1, 1);
  Worker worker(jira.url(), R"({"comment":true})");
  auto first = worker.merged(keys(8));
  CHECK(first.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(first.retry_after_ms == 0);  // the 503's Retry-After was short: waited out in the call
  CHECK(first.message.find("SOC-3") != std::string::npos);
  CHECK(jira.status("SOC-6") == "In Progress");
  for (int i = 1; i <= 8; ++i) {
    if (i != 3) CHECK(jira.comments("SOC-" + std::to_string(i)).size() == 1);
  }

  const int requests = jira.requestCount();
  auto second = worker.merged(keys(8), 2);
  CHECK(second.outcome == CONDUIT_OUTCOME_OK);
  for (int i = 1; i <= 8; ++i) {
    CHECK(jira.transitionsApplied("SOC-" + std::to_string(i)) == 1);
    CHECK(jira.comments("SOC-" + std::to_string(i)).size() == 1);
  }
  // SOC-3 only: GET, and (its transition unapplied: a 500 answer it was checked for) POST and
  // the comment; the others' checkpoints say they are done.
  CHECK(jira.requestCount() - requests <= 5);
}

TEST_CASE("parallel: retry wins over failed - retry_after is the longest asked") {
  JiraSimulator jira{SimulatorOptions{}};
  jira.start();
  jira.removeIssue("SOC-2");
  jira.failNext("POST", "/rest/api/2/issue/SOC-4/transitions", 500);
  Worker worker(jira.url());
  auto answer = worker.merged(keys(5));
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.retry_after_ms == 0);

  // A long Retry-After holds the site: the retry waits for all of it.
  JiraSimulator held{SimulatorOptions{}};
  held.start();
  held.failNext("GET", "/rest/api/2/issue/SOC-1", 429, 1, 9);
  Worker waiting(held.url(), R"({"concurrency":1})");
  auto later = waiting.merged(keys(4));
  CHECK(later.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(later.retry_after_ms > 8000);
  CHECK(later.retry_after_ms <= 9000);
  CHECK(held.requestCount() == 1);  // the others were not sent: the site is held
}

TEST_CASE("parallel: a long Retry-After - keys under way end, no new request is sent") {
  JiraSimulator jira(delayed(std::chrono::milliseconds(30)));
  jira.start();
  jira.failNext("GET", "/rest/api/2/issue/SOC-1", 429, 1, 9);
  Worker worker(jira.url());
  auto answer = worker.merged(keys(12));
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.retry_after_ms > 8000);
  // The four first GETs left together; at most their three POSTs followed before the 429 came
  // back. Keys started after it sent nothing.
  CHECK(jira.requestCount() <= 7);
}

TEST_CASE("parallel: an exception in a key's task is a retry - never out of its thread") {
  JiraSimulator jira{SimulatorOptions{}};
  jira.start();
  Worker worker(jira.url());
  worker.host.failCheckpoints(true);  // each key's first checkpoint read throws HostError
  auto answer = worker.merged(keys(6));
  CHECK(answer.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(answer.message.find("SOC-1: uncaught exception: the checkpoint store could not be read") ==
        0);
  CHECK(answer.message.find("SOC-6: uncaught exception") != std::string::npos);
  CHECK(jira.totalTransitionsApplied() == 0);
}

TEST_CASE("rate: atlassian_max_requests_per_second holds over many requests from many threads") {
  JiraSimulator jira{SimulatorOptions{}};
  jira.start();
  // 20 per second, a burst of 20: 60 requests take 2 s, from however many threads.
  auto client_holder = std::make_unique<JiraClient>(parseAddress(jira.url()), simulatorAccount(),
                                                    std::chrono::seconds(10),
                                                    JiraClient::kDefaultMaxInProcessWait, 20);
  JiraClient& client = *client_holder;
  std::atomic<int> ok{0};
  const auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        auto answer = client.issue("SOC-" + std::to_string(t * 15 + i + 1));
        if (std::holds_alternative<conduit::jira::IssueState>(answer)) ++ok;
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  const double elapsed = secondsSince(started);
  CHECK(ok == 60);
  CHECK(elapsed >= 1.8);
  CHECK(elapsed < 6);
  MESSAGE("60 requests at 20/s (burst 20): " << elapsed << " s");
  client_holder.reset();  // the site's last holder: its bucket goes with it

  // 0: no limit. The same 60 requests take no time to speak of.
  JiraClient unlimited(parseAddress(jira.url()), simulatorAccount(), std::chrono::seconds(10));
  const auto free_started = Clock::now();
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i)
        (void)unlimited.issue("SOC-" + std::to_string(t * 15 + i + 1));
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(secondsSince(free_started) < 1.5);
}

TEST_CASE("rate: a token later than half the request's deadline is a retry - not a late send") {
  JiraSimulator jira{SimulatorOptions{}};
  jira.start();
  // One a second, a burst of one, and a deadline of 1 s: the second request would wait 1 s.
  JiraClient client(parseAddress(jira.url()), simulatorAccount(), std::chrono::seconds(1),
                    JiraClient::kDefaultMaxInProcessWait, 1);
  CHECK(std::holds_alternative<conduit::jira::IssueState>(client.issue("SOC-1")));
  const auto started = Clock::now();
  auto answer = client.issue("SOC-2");
  REQUIRE(std::holds_alternative<JiraFailure>(answer));
  const auto& failure = std::get<JiraFailure>(answer);
  CHECK(failure.kind == JiraFailure::Kind::kRetryLater);
  CHECK(!failure.ambiguous);
  CHECK(failure.retry_after > std::chrono::milliseconds(800));
  CHECK(failure.retry_after <= std::chrono::milliseconds(1000));
  CHECK(failure.message.find("GET SOC-2: not sent: atlassian_max_requests_per_second (1)") == 0);
  CHECK(secondsSince(started) < 0.3);  // at once, without waiting
  CHECK(jira.requestCount() == 1);

  // Through the processor: a retry of the delivery after the time the token needs.
  Worker worker(jira.url(), "{}",
                {{"atlassian_max_requests_per_second", "0.5"}, {"atlassian_timeout_ms", "1000"}});
  auto moved = worker.merged("SOC-3 SOC-4");
  CHECK(moved.outcome == CONDUIT_OUTCOME_RETRY);
  CHECK(moved.message.find("not sent: atlassian_max_requests_per_second") != std::string::npos);
  CHECK(moved.retry_after_ms > 0);
}

TEST_CASE("rate: two workers of one process to one site share the bucket") {
  JiraSimulator jira{SimulatorOptions{}};
  jira.start();
  const std::map<std::string, std::string> limited = {{"atlassian_max_requests_per_second", "20"}};
  // Each moves 10 issues: 20 requests, the burst of one bucket. Alone, at once; together, the
  // second 20 wait a second for their tokens.
  Worker alone(jira.url(), "{}", limited);
  auto started = Clock::now();
  CHECK(alone.merged(keys(10, 1)).outcome == CONDUIT_OUTCOME_OK);
  CHECK(secondsSince(started) < 0.8);
  alone.plugin.reset();  // the last holder of the site: its bucket goes with it

  Worker first(jira.url(), "{}", limited);
  Worker second(jira.url(), "{}", limited);
  started = Clock::now();
  std::thread other(
      [&] { CHECK(second.merged(keys(10, 200), 1, "delivery-2").outcome == CONDUIT_OUTCOME_OK); });
  CHECK(first.merged(keys(10, 100)).outcome == CONDUIT_OUTCOME_OK);
  other.join();
  const double together = secondsSince(started);
  CHECK(together >= 0.85);
  CHECK(together < 5);
  CHECK(jira.totalTransitionsApplied() == 30);
  MESSAGE("two workers, 40 requests at 20/s (burst 20): " << together << " s");
}
