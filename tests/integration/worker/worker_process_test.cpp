// `conduit work` and `conduit run` as users run them: the real binary, a real redis-server, and
// real plugins (tests/plugins/scripted.cpp) whose calls are recorded in a file.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <doctest/doctest.h>
#include <httplib.h>

#include "process.hpp"
#include "queue/delivery_consumer.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"

using conduit::queue::DeliveryConsumer;
using conduit::queue::QueueNames;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::readFile;
using conduit::testing::RedisServer;
using conduit::testing::runToEnd;

namespace {

namespace fs = std::filesystem;

const std::string kConduit = CONDUIT_BINARY;

// One call of the scripted plugin, as it recorded it.
struct Call {
  std::string worker;
  std::string delivery;
  int attempt = 0;
  std::string pid;
  std::string checkpoint;
  int running = 0;  // calls into the library running at once, this one included
};

// A site: Redis, an app.env, the shipped state machines and a workers.yaml of scripted workers
// ("first", or "first:scripted_serial" for another plugin than `scripted`).
class WorkerSite {
 public:
  explicit WorkerSite(const std::vector<std::string>& workers = {"first"},
                      const std::map<std::string, std::string>& settings = {}) {
    std::map<std::string, std::string> config = {{"redis_url", redis_.url()},
                                                 {"bind", "127.0.0.1"},
                                                 {"plugin_dir", CONDUIT_TEST_PLUGIN_DIR},
                                                 {"scripted_log", calls_path_},
                                                 {"retry_initial_ms", "50"},
                                                 {"retry_max_ms", "200"},
                                                 {"retry_max_attempts", "3"},
                                                 {"claim_idle_ms", "1000"},
                                                 {"shutdown_timeout_ms", "10000"}};
    for (const auto& [key, value] : settings)
      config[key] = value;
    std::ofstream env(config_path_);
    for (const auto& [key, value] : config)
      env << key << "=" << value << "\n";

    fs::create_directories(hcl_dir_);
    fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/statemachines/jira.hcl",
                  hcl_dir_ + "/jira.hcl");
    std::ofstream yaml(workers_path_);
    yaml << "workers:\n";
    for (const auto& worker : workers) {
      const size_t colon = worker.find(':');
      const std::string plugin = colon == std::string::npos ? "scripted" : worker.substr(colon + 1);
      yaml << "  " << worker.substr(0, colon) << ":\n    plugin: " << plugin
           << "\n    statefile: jira.hcl\n    projects: [soc]\n";
    }
  }

  // The arguments of `conduit <command>` on this site.
  std::vector<std::string> command(const std::string& name, std::optional<int> port = {}) const {
    std::vector<std::string> argv = {kConduit,    name,     "--config",     config_path_,
                                     "--hcl-dir", hcl_dir_, "--worker-cfg", workers_path_};
    if (port) {
      argv.push_back("-p");
      argv.push_back(std::to_string(*port));
    }
    return argv;
  }

  // Queues a merged pull request (as the ingress does) whose title tells the plugin what to do.
  std::string enqueue(const std::string& delivery_id, const std::string& title) {
    const std::string payload = R"({"action":"closed","pull_request":{"title":")" + title +
                                R"(","merged":true,"html_url":"https://example.test/pr/1",)"
                                R"("head":{"ref":"feature/SOC-1"}}})";
    conduit::queue::Delivery delivery;
    delivery.provider = "github";
    delivery.repo_id = "repo";
    delivery.repo_path = "org/repo";
    delivery.event = "pull_request";
    delivery.delivery_id = delivery_id;
    delivery.received_at_ms = 1;
    delivery.payload = payload;
    return queue_.enqueue(delivery).entry_id;
  }

  // The process() calls recorded, in order.
  std::vector<Call> calls() const { return recorded(/*lifecycle=*/false); }
  // `<worker> shutdown` and `<worker> destroyed`, in order.
  std::vector<std::string> lifecycle() const {
    std::vector<std::string> events;
    for (const auto& call : recorded(/*lifecycle=*/true))
      events.push_back(call.worker + " " + call.checkpoint);
    return events;
  }

  long long streamLength() { return redis().command({"XLEN", QueueNames::kStream}).integer; }
  long long pendingCount() {
    auto reply = redis().command({"XPENDING", QueueNames::kStream, QueueNames::kGroup});
    return reply.elements.empty() ? 0 : reply.elements[0].integer;
  }
  // The dead-letter entries' fields, oldest first.
  std::vector<std::map<std::string, std::string>> deadLetters() {
    auto reply = redis().command({"XRANGE", DeliveryConsumer::kDeadLetterStream, "-", "+"});
    std::vector<std::map<std::string, std::string>> letters;
    for (const auto& entry : reply.elements)
      letters.push_back(conduit::testing::streamEntryFields(entry));
    return letters;
  }
  bool drained() { return streamLength() == 0 && pendingCount() == 0; }

  conduit::store::RedisConnection& redis() { return *direct_; }
  RedisServer& redisServer() { return redis_; }
  // A new direct connection, after the server was restarted.
  void reconnect() {
    direct_ = std::make_unique<conduit::store::RedisConnection>(redis_.endpoint(),
                                                                std::chrono::seconds(2));
  }
  const std::string& configPath() const { return config_path_; }
  const std::string& workersPath() const { return workers_path_; }

 private:
  std::vector<Call> recorded(bool lifecycle) const {
    std::vector<Call> calls;
    std::istringstream lines(readFile(calls_path_));
    Call call;
    while (lines >> call.worker >> call.delivery >> call.attempt >> call.pid >> call.checkpoint >>
           call.running) {
      if ((call.attempt == 0) == lifecycle) calls.push_back(call);
    }
    return calls;
  }

  RedisServer redis_;
  std::string dir_ = redis_.directory();
  std::string config_path_ = dir_ + "/app.env";
  std::string hcl_dir_ = dir_ + "/statemachines";
  std::string workers_path_ = dir_ + "/workers.yaml";
  std::string calls_path_ = dir_ + "/calls.log";
  conduit::store::RedisPool pool_{redis_.endpoint(), std::chrono::seconds(2)};
  conduit::queue::DeliveryQueue queue_{pool_};
  std::unique_ptr<conduit::store::RedisConnection> direct_ =
      std::make_unique<conduit::store::RedisConnection>(redis_.endpoint(), std::chrono::seconds(2));
};

bool answers(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 200000);
  auto response = client.Get(path);
  return response && response->status == 200 && response->body == "pong";
}

int callsOf(const std::vector<Call>& calls, const std::string& worker,
            const std::string& delivery) {
  int n = 0;
  for (const auto& call : calls)
    n += call.worker == worker && call.delivery == delivery;
  return n;
}

}  // namespace

TEST_CASE("worker: a delivery is processed once - then acknowledged and deleted") {
  WorkerSite site;
  const int port = freeLoopbackPort();
  Process worker(site.command("work", port));
  REQUIRE(eventually([&] { return answers(port, "/conduit-reactor/ping"); }));

  httplib::Client probe("127.0.0.1", port);
  auto ready = probe.Get("/conduit/ready");
  REQUIRE(ready);
  CHECK(ready->status == 200);

  const std::string entry = site.enqueue("d-1", "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }));
  auto calls = site.calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].worker == "first");
  CHECK(calls[0].delivery == "d-1");
  CHECK(calls[0].attempt == 1);
  // Nothing of it is left behind: no progress, no checkpoints, no dead letter.
  CHECK(site.redis().command({"EXISTS", DeliveryConsumer::progressKey(entry)}).integer == 0);
  CHECK(site.deadLetters().empty());

  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(site.calls().size() == 1);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  CHECK(worker.standardError().find("1 deliveries acknowledged") != std::string::npos);
  // The plugin was told to shut down, then destroyed.
  CHECK(site.lifecycle() == std::vector<std::string>{"first shutdown", "first destroyed"});
}

TEST_CASE("worker: without -p the ping answers on worker_port - never on the API's port") {
  const int worker_port = freeLoopbackPort();
  const int api_port = freeLoopbackPort();
  WorkerSite site({"first"}, {{"worker_port", std::to_string(worker_port)},
                              {"port", std::to_string(api_port)}});
  Process worker(site.command("work"));
  REQUIRE(eventually([&] { return answers(worker_port, "/conduit-reactor/ping"); }));
  CHECK_FALSE(answers(api_port, "/conduit/ping"));
}

TEST_CASE("worker: deliveries queued before the worker started are processed") {
  WorkerSite site;
  site.enqueue("early-1", "first=ok");
  site.enqueue("early-2", "first=ok");
  Process worker(site.command("work", freeLoopbackPort()));
  REQUIRE(eventually([&] { return site.drained(); }));
  CHECK(site.calls().size() == 2);
}

TEST_CASE("worker: a retry answer is tried again after a backoff - then succeeds") {
  WorkerSite site({"first"}, {{"retry_max_ms", "2000"}});
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-retry", "first=retry-once");
  site.enqueue("d-after", "first=retry-after");
  REQUIRE(eventually([&] { return site.drained(); }));
  auto calls = site.calls();
  CHECK(callsOf(calls, "first", "d-retry") == 2);
  CHECK(callsOf(calls, "first", "d-after") == 2);
  for (const auto& call : calls) {
    if (call.delivery == "d-retry") CHECK((call.attempt == 1 || call.attempt == 2));
  }
  CHECK(site.deadLetters().empty());
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  INFO(worker.standardError());
  CHECK(worker.standardError().find("attempt 1 of 3 to be retried in 300 ms: first: busy") !=
        std::string::npos);
}

TEST_CASE("worker: a retry repeats only the processors that asked - never one that succeeded") {
  WorkerSite site({"first", "second"});
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-mixed", "first=retry-once second=ok");
  REQUIRE(eventually([&] { return site.drained(); }));
  auto calls = site.calls();
  CHECK(callsOf(calls, "first", "d-mixed") == 2);
  CHECK(callsOf(calls, "second", "d-mixed") == 1);
}

TEST_CASE("worker: failed for good goes to the dead-letter stream with its error") {
  WorkerSite site({"first", "second"});
  Process worker(site.command("work", freeLoopbackPort()));
  const std::string entry = site.enqueue("d-fail", "first=fail second=retry-once");
  REQUIRE(eventually([&] { return site.drained(); }));
  auto letters = site.deadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0]["worker"] == "first");
  CHECK(letters[0]["error"] == "told to fail");
  CHECK(letters[0]["entry"] == entry);
  CHECK(letters[0]["delivery"] == "d-fail");
  CHECK(letters[0]["event"] == "pull_request");
  CHECK(letters[0]["payload"].find("first=fail") != std::string::npos);
  CHECK(letters[0]["attempts"] == "2");  // it waited for second's retry, once
  // first was not asked again on second's retry.
  auto calls = site.calls();
  CHECK(callsOf(calls, "first", "d-fail") == 1);
  CHECK(callsOf(calls, "second", "d-fail") == 2);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  INFO(worker.standardError());
  CHECK(worker.standardError().find("worker `first` failed for good after 2 attempt(s), "
                                    "dead-lettered to conduit::dead-letters: told to fail") !=
        std::string::npos);
}

TEST_CASE("worker: a delivery out of attempts is dead-lettered with the last error") {
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-never", "first=retry-always");
  REQUIRE(eventually([&] { return site.drained(); }));
  CHECK(callsOf(site.calls(), "first", "d-never") == 3);
  auto letters = site.deadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0]["error"] == "gave up after 3 attempts: never ready");
  CHECK(letters[0]["attempts"] == "3");
}

TEST_CASE("worker: a payload that is not JSON fails for good at once") {
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  // The worker made the group it reads from: no server has run on this Redis.
  REQUIRE(eventually([&] {
    return site.redis().command({"EXISTS", QueueNames::kStream}).integer == 1;
  }));
  site.redis().command({"XADD", QueueNames::kStream, "*", "schema", "1", "provider", "github",
                        "repo_id", "repo", "repo_path", "org/repo", "event", "pull_request",
                        "delivery", "d-junk", "received_at_ms", "1", "payload", "[1, 2"});
  const bool drained = eventually([&] { return site.drained(); });
  worker.signal(SIGTERM);
  worker.wait();
  INFO(worker.standardError());
  REQUIRE(drained);
  auto letters = site.deadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0]["error"].find("JSON") != std::string::npos);
  CHECK(site.calls().empty());
}

TEST_CASE("worker: killed mid-event - a second worker process claims it and finishes it") {
  WorkerSite site;
  auto first = std::make_unique<Process>(site.command("work", freeLoopbackPort()));
  site.enqueue("d-slow", "first=slow");
  REQUIRE(eventually([&] { return site.calls().size() == 1; }));
  first->signal(SIGKILL);
  first->wait();
  CHECK(site.pendingCount() == 1);  // left pending, not lost

  Process second(site.command("work", freeLoopbackPort()));
  REQUIRE(eventually([&] { return site.drained(); }));
  auto calls = site.calls();
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].pid != calls[0].pid);
  // The second call saw what the first one kept in the checkpoint store, across the crash.
  CHECK(calls[1].checkpoint == calls[0].pid);
  second.signal(SIGTERM);
  CHECK(second.wait() == 0);
  CHECK(second.standardError().find("taken over from a worker process") != std::string::npos);
}

TEST_CASE("worker: a restarted worker process takes back what it left pending - at once") {
  // Claiming from others waits a minute here: only taking back its own can be this quick.
  WorkerSite site({"first"}, {{"claim_idle_ms", "60000"}});
  const int port = freeLoopbackPort();
  auto before = std::make_unique<Process>(site.command("work", port));
  site.enqueue("d-slow", "first=slow");
  REQUIRE(eventually([&] { return site.calls().size() == 1; }));
  before->signal(SIGKILL);
  before->wait();

  Process after(site.command("work", port));  // same host and port: same consumer
  REQUIRE(eventually([&] { return site.drained(); }, std::chrono::seconds(5)));
  CHECK(site.calls().size() == 2);
  after.signal(SIGTERM);
  CHECK(after.wait() == 0);
  CHECK(after.standardError().find("took back 1 deliveries") != std::string::npos);
}

TEST_CASE("worker: SIGTERM lets the event in flight finish - and leaves the rest queued") {
  WorkerSite site({"first"}, {{"worker_concurrency", "1"}});
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-slow", "first=slow");
  REQUIRE(eventually([&] { return site.calls().size() == 1; }));
  site.enqueue("d-later-1", "first=ok");
  site.enqueue("d-later-2", "first=ok");
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  CHECK(site.calls().size() == 1);  // the later ones were not started ...
  CHECK(site.streamLength() == 2);  // ... and are still queued; d-slow was finished and acked

  Process next(site.command("work", freeLoopbackPort()));
  REQUIRE(eventually([&] { return site.drained(); }));
  CHECK(site.calls().size() == 3);
}

TEST_CASE("worker: two worker processes share 1000 deliveries - each processed exactly once") {
  WorkerSite site;
  const int port_a = freeLoopbackPort();
  Process a(site.command("work", port_a));
  const int port_b = freeLoopbackPort();
  Process b(site.command("work", port_b));
  REQUIRE(eventually([&] { return answers(port_a, "/conduit-reactor/ping"); }));
  REQUIRE(eventually([&] { return answers(port_b, "/conduit-reactor/ping"); }));
  for (int i = 0; i < 1000; ++i)
    site.enqueue("d-" + std::to_string(i), "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }, std::chrono::seconds(60)));
  auto calls = site.calls();
  CHECK(calls.size() == 1000);
  std::set<std::string> deliveries, pids;
  for (const auto& call : calls) {
    deliveries.insert(call.delivery);
    pids.insert(call.pid);
  }
  CHECK(deliveries.size() == 1000);
  CHECK(pids.size() == 2);
}

TEST_CASE("worker: `conduit run` serves the API and processes what it accepts") {
  WorkerSite site;
  const int port = freeLoopbackPort();
  auto argv = site.command("run");
  Process run(argv, {{"CONDUIT_PORT", std::to_string(port)}});
  REQUIRE(eventually([&] { return answers(port, "/conduit/ping"); }));
  CHECK(answers(port, "/conduit-reactor/ping"));

  httplib::Client client("127.0.0.1", port);
  auto registered = client.Post("/conduit/webhooks/register",
                                R"({"provider":"github","repo_id":"svc","repo_path":"o/svc"})",
                                "application/json");
  REQUIRE(registered);
  REQUIRE(registered->status == 201);
  const std::string secret = conduit::testing::jsonString(registered->body, "/data/secret");
  const std::string body =
      R"({"action":"closed","pull_request":{"title":"first=ok","merged":true}})";
  httplib::Headers headers = {
      {"X-GitHub-Event", "pull_request"},
      {"X-GitHub-Delivery", "d-http"},
      {"X-Hub-Signature-256", conduit::testing::githubSignature(secret, body)}};
  auto delivered =
      client.Post("/conduit/webhooks/github/svc/payload", headers, body, "application/json");
  REQUIRE(delivered);
  CHECK(delivered->status == 202);
  REQUIRE(eventually([&] { return site.drained(); }));
  REQUIRE(site.calls().size() == 1);
  CHECK(site.calls()[0].delivery == "d-http");
  run.signal(SIGTERM);
  CHECK(run.wait() == 0);
}

TEST_CASE("worker: a plugin that cannot be loaded stops start-up with 2 - naming path and check") {
  WorkerSite site;
  std::ofstream(site.workersPath()) << "workers:\n  jira-ish:\n    plugin: no_such_plugin\n"
                                       "    statefile: jira.hcl\n    projects: [soc]\n";
  std::string err;
  CHECK(runToEnd(site.command("work", freeLoopbackPort()), nullptr, &err) == 2);
  CHECK(err.find(std::string("plugin ") + CONDUIT_TEST_PLUGIN_DIR +
                 "/no_such_plugin.so: no such file") != std::string::npos);

  std::ofstream(site.workersPath()) << "workers:\n  odd:\n    plugin: wrong_name\n"
                                       "    statefile: jira.hcl\n    projects: [soc]\n";
  CHECK(runToEnd(site.command("run"), nullptr, &err) == 2);
  CHECK(err.find("wrong_name.so: ") != std::string::npos);
  CHECK(err.find("name") != std::string::npos);
}

TEST_CASE("worker: a plugin that refuses its configuration stops start-up with 2") {
  WorkerSite site({"first"}, {{"scripted_log", ""}});
  std::string err;
  CHECK(runToEnd(site.command("work", freeLoopbackPort()), nullptr, &err) == 2);
  CHECK(err.find("worker `first`: plugin " + std::string(CONDUIT_TEST_PLUGIN_DIR) +
                 "/scripted.so refused to take the worker's configuration: scripted needs "
                 "scripted_log") != std::string::npos);
}

TEST_CASE("worker: keys a plugin declares are known keys - typos are still warned about") {
  WorkerSite site({"first"}, {{"scriptd_log", "typo"}});
  Process worker(site.command("work", freeLoopbackPort()));
  REQUIRE(eventually([&] {
    return worker.standardError().find("processes") != std::string::npos ||
           worker.standardError().find("reading") != std::string::npos;
  }));
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  const auto err = worker.standardError();
  CHECK(err.find("scriptd_log") != std::string::npos);
  CHECK(err.find("scripted_log") == std::string::npos);
}

TEST_CASE("worker: no workers in workers.yaml is a configuration error") {
  WorkerSite site;
  std::ofstream(site.workersPath()) << "workers: {}\n";
  std::string err;
  CHECK(runToEnd(site.command("work", freeLoopbackPort()), nullptr, &err) == 2);
  CHECK(err.find("no workers") != std::string::npos);
}

TEST_CASE("worker: a plugin not marked thread-safe gets one call at a time") {
  WorkerSite site({"first:scripted_serial", "second:scripted_serial"});
  Process worker(site.command("work", freeLoopbackPort()));
  for (int i = 0; i < 8; ++i)
    site.enqueue("d-" + std::to_string(i), "first=nap second=nap");
  REQUIRE(eventually([&] { return site.drained(); }));
  auto calls = site.calls();
  CHECK(calls.size() == 16);
  for (const auto& call : calls)
    CHECK(call.running == 1);
}

TEST_CASE("worker: a thread-safe plugin gets calls from several threads at once") {
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  for (int i = 0; i < 8; ++i)
    site.enqueue("d-" + std::to_string(i), "first=nap");
  REQUIRE(eventually([&] { return site.drained(); }));
  int most = 0;
  for (const auto& call : site.calls())
    most = std::max(most, call.running);
  CHECK(most > 1);
}

TEST_CASE("worker: Redis going away and coming back - the worker goes on by itself") {
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-before", "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }));
  site.redisServer().stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  site.redisServer().start();
  site.reconnect();
  site.enqueue("d-after", "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }));
  CHECK(site.calls().size() == 2);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  const auto err = worker.standardError();
  CHECK(err.find("cannot read deliveries from Redis") != std::string::npos);
  CHECK(err.find("Redis answers again") != std::string::npos);
}

TEST_CASE("worker: a Redis outage while a delivery is processed - it is still processed once") {
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-slow", "first=slow");
  REQUIRE(eventually([&] { return site.calls().size() == 1; }));
  site.redisServer().stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  site.redisServer().start();
  site.reconnect();
  REQUIRE(eventually([&] { return site.drained(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(site.calls().size() == 1);
}

TEST_CASE("worker: a delivery that kills its worker process every time is dead-lettered") {
  WorkerSite site;  // retry_max_attempts=3
  site.enqueue("d-poison", "first=crash");
  const int port = freeLoopbackPort();
  int starts = 0;
  while (!site.drained() && starts < 6) {
    Process worker(site.command("work", port));
    ++starts;
    eventually([&] { return !worker.running() || site.drained(); });
    worker.signal(SIGTERM);
    worker.wait();
  }
  CHECK(site.drained());
  CHECK(starts == 4);  // three attempts cut short by the crash, then the dead letter
  auto letters = site.deadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0]["worker"] == "first");
  CHECK(letters[0]["error"].find("gave up after 3 attempts: attempt 3 was cut short: the worker "
                                 "process running it stopped") == 0);
  CHECK(letters[0]["attempts"] == "3");
}

TEST_CASE("worker: kill -9 ten times while deliveries wait for a retry - none is dead-lettered") {
  // Two attempts: before attempts were counted only when they started, the second restart
  // dead-lettered everything held.
  WorkerSite site({"first"}, {{"retry_schedule", "1h"}, {"claim_idle_ms", "60000"}});
  std::vector<std::string> entries;
  for (int i = 0; i < 3; ++i)
    entries.push_back(site.enqueue("d-wait-" + std::to_string(i), "first=retry-always"));
  const int port = freeLoopbackPort();
  auto worker = std::make_unique<Process>(site.command("work", port));
  REQUIRE(eventually([&] {
    for (const auto& entry : entries) {
      if (site.redis().command({"HGET", DeliveryConsumer::progressKey(entry), "attempts"}).text !=
          "1") {
        return false;
      }
    }
    return true;
  }));
  REQUIRE(eventually([&] {
    return site.redis().command({"EXISTS", QueueNames::kStream}).integer;
  }));
  // And an entry of a newer release, handed over at each restart as well: its schema is looked
  // at first, so it is never dead-lettered by this older release either.
  site.redis().command({"XADD", QueueNames::kStream, "*", "schema", "2", "provider", "github",
                        "repo_id", "repo", "repo_path", "org/repo", "event", "pull_request",
                        "delivery", "d-future", "received_at_ms", "1", "payload", "{}"});
  REQUIRE(eventually([&] { return site.pendingCount() == 4; }));

  for (int kill = 0; kill < 10; ++kill) {
    worker->signal(SIGKILL);
    worker->wait();
    worker = std::make_unique<Process>(site.command("work", port));
    REQUIRE(eventually([&] {
      return worker->standardError().find("took back 4 deliveries") != std::string::npos;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(site.deadLetters().empty());
  CHECK(site.pendingCount() == 4);
  CHECK(site.calls().size() == 3);  // one attempt each, none since
  for (const auto& entry : entries) {
    CHECK(site.redis().command({"HGET", DeliveryConsumer::progressKey(entry), "attempts"}).text ==
          "1");
  }
  worker->signal(SIGTERM);
  CHECK(worker->wait() == 0);
}

TEST_CASE("worker: stalled past claim_idle_ms - it never calls a plugin for what was taken over") {
  WorkerSite site({"first"}, {{"retry_schedule", "3s,1h"}});  // claim_idle_ms=1000
  const int port_a = freeLoopbackPort();
  Process a(site.command("work", port_a));
  std::vector<std::string> entries;
  for (int i = 0; i < 4; ++i)
    entries.push_back(site.enqueue("d-stall-" + std::to_string(i), "first=retry-always"));
  auto progress = [&] {
    std::vector<std::string> due;
    for (const auto& entry : entries) {
      auto fields = site.redis().command({"HGETALL", DeliveryConsumer::progressKey(entry)});
      std::string text;
      for (const auto& field : fields.elements)
        text += field.text + " ";
      due.push_back(text);
    }
    return due;
  };
  REQUIRE(eventually([&] { return site.calls().size() == 4; }));
  const std::string a_pid = site.calls()[0].pid;
  a.signal(SIGSTOP);

  // Another process takes them over after claim_idle_ms, and makes their second attempt when
  // it is due (3 s after the first).
  Process b(site.command("work", freeLoopbackPort()));
  const bool taken = eventually(
      [&] {
        for (const auto& entry : entries) {
          if (site.redis()
                  .command({"HGET", DeliveryConsumer::progressKey(entry), "attempts"})
                  .text != "2") {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(20));
  const auto progress_before = progress();
  a.signal(SIGCONT);
  REQUIRE(taken);
  // A wakes with the four due: it must find they are not its own any more.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  int calls_by_a = 0;
  for (const auto& call : site.calls())
    calls_by_a += call.pid == a_pid;
  CHECK(calls_by_a == 4);  // the first attempts only
  CHECK(site.calls().size() == 8);
  CHECK(progress() == progress_before);  // nothing written by A since it woke
  CHECK(site.deadLetters().empty());
  CHECK(site.pendingCount() == 4);
  a.signal(SIGTERM);
  CHECK(a.wait() == 0);
  b.signal(SIGTERM);
  CHECK(b.wait() == 0);
  INFO(a.standardError());
  CHECK(a.standardError().find("taken over by another worker process") != std::string::npos);
}

TEST_CASE("worker: a second live process with the same consumer name refuses to start - 2") {
  WorkerSite site({"first"}, {{"consumer_name", "shared-name"}});
  const int port = freeLoopbackPort();
  Process first(site.command("work", port));
  REQUIRE(eventually([&] { return answers(port, "/conduit-reactor/ping"); }));
  REQUIRE(eventually([&] {
    return site.redis().command({"EXISTS", "conduit::consumers::shared-name"}).integer == 1;
  }));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string err;
  CHECK(runToEnd(site.command("work", freeLoopbackPort()), nullptr, &err) == 2);
  INFO(err);
  CHECK(err.find(std::string("the consumer name `shared-name` is held by a live worker process "
                             "on host ") +
                 host) != std::string::npos);
  CHECK(err.find("set another name with the `consumer_name` key") != std::string::npos);
  // The first one goes on.
  site.enqueue("d-1", "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }));
  first.signal(SIGTERM);
  CHECK(first.wait() == 0);
  // Its name is given up at a clean stop.
  CHECK(site.redis().command({"EXISTS", "conduit::consumers::shared-name"}).integer == 0);
}

TEST_CASE("worker: restarted under its consumer name after kill -9 - starts at once, takes back") {
  WorkerSite site(
      {"first"},
      {{"consumer_name", "fixed-name"}, {"retry_schedule", "1h"}, {"claim_idle_ms", "60000"}});
  auto before = std::make_unique<Process>(site.command("work", freeLoopbackPort()));
  site.enqueue("d-wait", "first=retry-always");
  REQUIRE(eventually([&] { return site.calls().size() == 1; }));
  before->signal(SIGKILL);
  before->wait();
  // Another port: only the consumer_name key makes it the same consumer.
  const int port = freeLoopbackPort();
  Process after(site.command("work", port));
  REQUIRE(eventually(
      [&] { return after.standardError().find("took back 1 deliveries") != std::string::npos; },
      std::chrono::seconds(5)));
  CHECK(after.running());
  CHECK(answers(port, "/conduit-reactor/ping"));
  after.signal(SIGTERM);
  CHECK(after.wait() == 0);
}

TEST_CASE("worker: consumers that are gone and hold nothing leave the group") {
  WorkerSite site;  // claim_idle_ms=1000
  site.redis().command(
      {"XGROUP", "CREATE", QueueNames::kStream, QueueNames::kGroup, "0", "MKSTREAM"});
  site.redis().command(
      {"XGROUP", "CREATECONSUMER", QueueNames::kStream, QueueNames::kGroup, "gone-host:9093"});
  const int port = freeLoopbackPort();
  Process worker(site.command("work", port));
  auto consumers = [&] {
    std::set<std::string> names;
    auto reply =
        site.redis().command({"XINFO", "CONSUMERS", QueueNames::kStream, QueueNames::kGroup});
    for (const auto& consumer : reply.elements) {
      for (size_t i = 0; i + 1 < consumer.elements.size(); i += 2) {
        if (consumer.elements[i].text == "name") names.insert(consumer.elements[i + 1].text);
      }
    }
    return names;
  };
  // The worker process becomes a consumer with its first delivery.
  site.enqueue("d-1", "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string self = std::string(host) + ":" + std::to_string(port);
  REQUIRE(consumers() == std::set<std::string>{"gone-host:9093", self});
  // Within ten claim_idle_ms; the live one stays, idle as it is.
  REQUIRE(eventually([&] { return consumers().count("gone-host:9093") == 0; },
                     std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(consumers() == std::set<std::string>{self});
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  CHECK(worker.standardError().find("removed consumer gone-host:9093") != std::string::npos);
}

TEST_CASE("worker: a dead letter put back with XADD does not repeat what its checkpoints say") {
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-replay", "first=mark-fail");
  REQUIRE(eventually([&] { return site.drained(); }));
  auto letters = site.deadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0]["error"] == "marked, then failed");

  // docs/queue.md's replay: the delivery's own fields back onto the queue.
  auto& fields = letters[0];
  site.redis().command({"XADD", QueueNames::kStream, "*", "schema", fields["schema"], "provider",
                        fields["provider"], "repo_id", fields["repo_id"], "repo_path",
                        fields["repo_path"], "event", fields["event"], "delivery",
                        fields["delivery"], "received_at_ms", fields["received_at_ms"], "payload",
                        fields["payload"]});
  REQUIRE(eventually([&] { return site.drained(); }));
  auto calls = site.calls();
  REQUIRE(calls.size() == 2);
  // The second entry's call found the first one's checkpoint: its work was not done again.
  CHECK(calls[1].checkpoint == calls[0].pid);
  CHECK(site.deadLetters().size() == 1);
  // And the checkpoints are kept after that one too, with their expiry.
  const std::string key = "conduit::checkpoints::github::repo::d-replay::first";
  CHECK(site.redis().command({"TTL", key}).integer > 700 * 3600);
}

TEST_CASE("worker: retry_schedule sets the delays and the attempts - a bad one stops start-up") {
  WorkerSite site({"first"}, {{"retry_schedule", "100ms,200ms"}});
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-never", "first=retry-always");
  REQUIRE(eventually([&] { return site.drained(); }));
  CHECK(callsOf(site.calls(), "first", "d-never") == 3);
  auto letters = site.deadLetters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0]["error"] == "gave up after 3 attempts: never ready");
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  const auto err = worker.standardError();
  CHECK(err.find("retry_initial_ms is ignored: retry_schedule is set, and wins") !=
        std::string::npos);
  CHECK(err.find("attempt 1 of 3 to be retried in") != std::string::npos);

  WorkerSite bad({"first"}, {{"retry_schedule", "5s,soon"}});
  std::string bad_err;
  CHECK(runToEnd(bad.command("work", freeLoopbackPort()), nullptr, &bad_err) == 2);
  CHECK(bad_err.find("retry_schedule: `soon` is not a delay") != std::string::npos);
}

TEST_CASE("worker: an entry of a newer schema is left pending for a newer worker process") {
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  REQUIRE(eventually([&] {
    return site.redis().command({"EXISTS", QueueNames::kStream}).integer == 1;
  }));
  site.redis().command({"XADD", QueueNames::kStream, "*", "schema", "2", "provider", "github",
                        "repo_id", "repo", "repo_path", "org/repo", "event", "pull_request",
                        "delivery", "d-future", "received_at_ms", "1", "payload", "{}"});
  REQUIRE(eventually([&] { return site.pendingCount() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  CHECK(site.streamLength() == 1);
  CHECK(site.deadLetters().empty());
  CHECK(site.calls().empty());
  CHECK(worker.standardError().find("its schema 2 is newer than this release's (1)") !=
        std::string::npos);
}

TEST_CASE("worker: SIGHUP puts a changed workers.yaml in force - keeping the old one if invalid") {
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  site.enqueue("d-before", "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }));

  // A broken file is refused; the worker goes on with what it had.
  std::ofstream(site.workersPath()) << "workers:\n  first: [\n";
  worker.signal(SIGHUP);
  REQUIRE(eventually(
      [&] { return worker.standardError().find("reload refused") != std::string::npos; }));
  site.enqueue("d-during", "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }));
  CHECK(callsOf(site.calls(), "first", "d-during") == 1);

  // A valid one with a second worker: both get the next delivery.
  std::ofstream(site.workersPath())
      << "workers:\n"
      << "  first:\n    plugin: scripted\n    statefile: jira.hcl\n    projects: [soc]\n"
      << "  second:\n    plugin: scripted\n    statefile: jira.hcl\n    projects: [devhop]\n";
  worker.signal(SIGHUP);
  REQUIRE(eventually([&] {
    return worker.standardError().find("workers now: first, second") != std::string::npos;
  }));
  site.enqueue("d-after", "first=ok second=ok");
  REQUIRE(eventually([&] { return site.drained(); }));
  CHECK(callsOf(site.calls(), "first", "d-after") == 1);
  CHECK(callsOf(site.calls(), "second", "d-after") == 1);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
  // The first instance was shut down and destroyed after the reload, and the new ones at the
  // stop.
  CHECK(site.lifecycle() == std::vector<std::string>{"first shutdown", "first destroyed",
                                                     "first shutdown", "first destroyed",
                                                     "second shutdown", "second destroyed"});
}

TEST_CASE("worker: SIGHUP does not stop `conduit serve`") {
  WorkerSite site;
  const int port = freeLoopbackPort();
  Process serve(
      {CONDUIT_BINARY, "serve", "--config", site.configPath(), "-p", std::to_string(port)});
  REQUIRE(eventually([&] { return answers(port, "/conduit/ping"); }));
  serve.signal(SIGHUP);
  REQUIRE(eventually(
      [&] { return serve.standardError().find("nothing to reload") != std::string::npos; }));
  CHECK(answers(port, "/conduit/ping"));
  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);
}

TEST_CASE("worker: a delivery's end keeps the checkpoints of workers a reload removed too") {
  WorkerSite site({"first", "second"}, {{"retry_schedule", "5s,5s"}});
  Process worker(site.command("work", freeLoopbackPort()));
  const std::string entry = site.enqueue("d-removed", "first=retry-once second=retry-once");
  REQUIRE(eventually([&] { return site.calls().size() == 2; }));
  // What `second` kept for it, written long ago: its expiry is near.
  const std::string kept = "conduit::checkpoints::github::repo::d-removed::second";
  site.redis().command({"HSET", kept, "moved", "SOC-1"});
  site.redis().command({"EXPIRE", kept, "600"});

  std::ofstream(site.workersPath())
      << "workers:\n  first:\n    plugin: scripted\n    statefile: jira.hcl\n    projects: [soc]\n";
  worker.signal(SIGHUP);
  REQUIRE(eventually(
      [&] { return worker.standardError().find("workers now: first") != std::string::npos; }));
  REQUIRE(eventually([&] { return site.drained(); }, std::chrono::seconds(15)));
  CHECK(callsOf(site.calls(), "first", "d-removed") == 2);
  CHECK(callsOf(site.calls(), "second", "d-removed") == 1);
  // Kept checkpoint_ttl_hours from the delivery's end, as the other workers' are.
  CHECK(site.redis().command({"TTL", kept}).integer > 700 * 3600);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
}

TEST_CASE("worker: entries added by hand without a delivery id never share checkpoints") {
  // A replay that left the `delivery` field out: two unrelated deliveries with no identity.
  // Keyed by an empty delivery id, the second would find the first's checkpoints and skip work
  // it never did.
  WorkerSite site;
  Process worker(site.command("work", freeLoopbackPort()));
  REQUIRE(eventually([&] {
    return site.redis().command({"EXISTS", QueueNames::kStream}).integer == 1 ||
           worker.standardError().find("worker process") != std::string::npos;
  }));
  const std::string payload =
      R"({"action":"closed","pull_request":{"title":"first=mark-fail","merged":true,)"
      R"("html_url":"https://example.test/pr/1","head":{"ref":"feature/SOC-1"}}})";
  for (const char* delivery : {"", "bad/id"}) {
    for (int i = 0; i < 2; ++i) {
      conduit::store::RedisArgs add = {"XADD",        QueueNames::kStream, "*",        "schema",
                                       "1",           "provider",          "github",   "repo_id",
                                       "repo",        "repo_path",         "org/repo", "event",
                                       "pull_request"};
      if (*delivery != '\0') {
        add.push_back("delivery");
        add.push_back(delivery);
      }
      for (const char* field : {"received_at_ms", "1", "payload"})
        add.push_back(field);
      add.push_back(payload);
      site.redis().command(add);
      REQUIRE(eventually([&] { return site.drained(); }));
    }
  }
  // Each failed after marking: none found a mark another had left (it would have answered ok).
  const auto letters = site.deadLetters();
  REQUIRE(letters.size() == 4);
  for (const auto& letter : letters)
    CHECK(letter.at("error") == "marked, then failed");
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
}

TEST_CASE("worker: a retry due by a clock far ahead waits no longer than the schedule allows") {
  // The process that wrote due_ms had its wall clock a year ahead: another process that takes
  // the delivery over must not hold it for a year.
  WorkerSite site({"first"}, {{"consumer_name", "fixed-name"}, {"retry_schedule", "1s,1s"}});
  const std::string entry = site.enqueue("d-skewed", "first=ok");
  site.redis().command({"XREADGROUP", "GROUP", QueueNames::kGroup, "fixed-name", "COUNT", "1",
                        "STREAMS", QueueNames::kStream, ">"});
  const int64_t year_ahead_ms = conduit::queue::unixTimeMs() + 365LL * 24 * 3600 * 1000;
  site.redis().command({"HSET", DeliveryConsumer::progressKey(entry), "attempts", "1", "started",
                        "1", "due_ms", std::to_string(year_ahead_ms)});
  Process worker(site.command("work", freeLoopbackPort()));
  REQUIRE(eventually([&] { return site.drained(); }, std::chrono::seconds(10)));
  CHECK(callsOf(site.calls(), "first", "d-skewed") == 1);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
}

TEST_CASE("worker: Redis down at start-up - it starts, waits, then takes its name and works") {
  WorkerSite site({"first"}, {{"consumer_name", "patient"}});
  site.redisServer().stop();
  const int port = freeLoopbackPort();
  Process worker(site.command("work", port));
  REQUIRE(eventually([&] { return answers(port, "/conduit-reactor/ping"); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(worker.running());
  site.redisServer().start();
  site.reconnect();
  site.enqueue("d-late", "first=ok");
  REQUIRE(eventually([&] { return site.drained(); }, std::chrono::seconds(10)));
  CHECK(callsOf(site.calls(), "first", "d-late") == 1);
  CHECK(site.redis().command({"EXISTS", "conduit::consumers::patient"}).integer == 1);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
}

TEST_CASE("worker: stalled past its lease while another started under its name - it ends nothing") {
  // Both are consumer `shared` to Redis: only the lease tells the stalled one that the delivery
  // it was processing is not its own any more.
  WorkerSite site(
      {"first"},
      {{"consumer_name", "shared"}, {"retry_schedule", "30s,1h"}, {"claim_idle_ms", "60000"}});
  Process a(site.command("work", freeLoopbackPort()));
  const std::string entry = site.enqueue("d-shared", "first=slow");  // a 4-second plugin call
  REQUIRE(eventually([&] { return site.calls().size() == 1; }));
  a.signal(SIGSTOP);
  REQUIRE(eventually(
      [&] {
        return site.redis().command({"EXISTS", "conduit::consumers::shared"}).integer == 0;
      },
      std::chrono::seconds(25)));
  Process b(site.command("work", freeLoopbackPort()));
  REQUIRE(eventually(
      [&] { return b.standardError().find("took back 1 deliveries") != std::string::npos; }));
  // B counted A's attempt as cut short and waits 30 s for the next one.
  REQUIRE(eventually([&] {
    return site.redis().command({"HGET", DeliveryConsumer::progressKey(entry), "attempts"}).text ==
           "1";
  }));
  a.signal(SIGCONT);  // its plugin call returns ok at once: the 4 s have passed
  REQUIRE(eventually([&] {
    return a.standardError().find("another worker process had taken it over") != std::string::npos;
  }));
  CHECK(site.pendingCount() == 1);  // not acknowledged by A under B
  CHECK(site.streamLength() == 1);
  CHECK(site.deadLetters().empty());
  CHECK(b.running());
  a.signal(SIGTERM);
  CHECK(a.wait() == 0);
  b.signal(SIGTERM);
  CHECK(b.wait() == 0);
}
