// /metrics and the JSON log as an operator meets them: the real `conduit serve` and `conduit
// work` on a real Redis, the real jira.so and the Jira simulator, one delivery accepted and
// processed, then each scrape checked by Debian's `promtool check metrics` and each log line
// parsed as JSON.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>

#include "jira_simulator.hpp"
#include "process.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"
#include "store/redis_pool.hpp"

using conduit::jira_simulator::JiraSimulator;
using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::RedisServer;
using conduit::testing::runToEnd;

namespace {

namespace fs = std::filesystem;

const std::string kAdminToken = "admin-token-0123456789abcdef";
const std::string kMetricsToken = "metrics-token-0123456789abcdef";
const std::string kDelivery = "7a1f1c2e-0000-4000-8000-000000000001";

// Redis, the Jira simulator, an app.env, the shipped state machines and workers.yaml (worker
// `atlassian`: projects devhop and soc), `conduit serve` and `conduit work` (or `conduit run`).
class Site {
 public:
  explicit Site(const std::string& log_format, bool run_all = false) {
    jira_.start();
    fs::copy(std::string(CONDUIT_CONFIG_DIR) + "/statemachines", dir_ + "/statemachines");
    fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/workers.yaml", dir_ + "/workers.yaml");
    std::ofstream(dir_ + "/app.env")
        << "redis_url=" << redis_.url() << "\nbind=127.0.0.1\nport=" << server_port_
        << "\nworker_port=" << worker_port_ << "\nplugin_dir=" << CONDUIT_BUILT_PLUGIN_DIR
        << "\nlog_format=" << log_format << "\nadmin_token=" << kAdminToken
        << "\nmetrics_token=env://SCRAPE_TOKEN\natlassian_email=dev@example.test\n"
        << "atlassian_api_key=simulator-token\natlassian_domain_url=" << jira_.url()
        << "\nretry_initial_ms=50\nclaim_idle_ms=1000\n";
    const std::map<std::string, std::optional<std::string>> env = {{"SCRAPE_TOKEN", kMetricsToken}};
    auto command = [&](const std::string& name) {
      std::vector<std::string> argv = {CONDUIT_BINARY, name, "--config", dir_ + "/app.env"};
      if (name == "serve") return argv;  // it reads no state machine and no workers.yaml
      argv.insert(argv.end(),
                  {"--hcl-dir", dir_ + "/statemachines", "--worker-cfg", dir_ + "/workers.yaml"});
      return argv;
    };
    if (run_all) {
      server_ = std::make_unique<Process>(command("run"), env);
      worker_port_ = server_port_;
    } else {
      server_ = std::make_unique<Process>(command("serve"), env);
      worker_ = std::make_unique<Process>(command("work"), env);
    }
    const bool server_up = eventually([&] { return get(server_port_, "/conduit/ping") == 200; });
    REQUIRE_MESSAGE(server_up, server_->standardError());
    const bool worker_up =
        eventually([&] { return get(worker_port_, "/conduit-reactor/ping") == 200; });
    REQUIRE_MESSAGE(worker_up, (worker_ ? worker_ : server_)->standardError());
    registerHook();
  }

  // Sends a merged pull request naming SOC-1 and waits until the worker is done with it.
  void deliverAndProcess() {
    const std::string body =
        R"({"action":"closed","pull_request":{"title":"SOC-1: login","body":"","merged":true,)"
        R"("html_url":"https://github.com/acme/app/pull/1","head":{"ref":"main"},)"
        R"("merged_by":{"login":"alice"}}})";
    httplib::Client client("127.0.0.1", server_port_);
    auto response =
        client.Post("/conduit/webhooks/github/app/payload",
                    {{"X-GitHub-Event", "pull_request"},
                     {"X-GitHub-Delivery", kDelivery},
                     {"X-Hub-Signature-256", conduit::testing::githubSignature(secret_, body)}},
                    body, "application/json");
    REQUIRE(response);
    REQUIRE(response->status == 202);
    REQUIRE(eventually([&] { return jira_.status("SOC-1") == "In Progress"; }));
    conduit::store::RedisConnection redis(redis_.endpoint(), std::chrono::seconds(2));
    REQUIRE(eventually([&] {
      return redis.command({"XLEN", conduit::queue::QueueNames::kStream}).integer == 0;
    }));
  }

  httplib::Result scrape(int port, const std::optional<std::string>& token) {
    httplib::Client client("127.0.0.1", port);
    httplib::Headers headers;
    if (token) headers.emplace("Authorization", "Bearer " + *token);
    return client.Get("/metrics", headers);
  }

  int get(int port, const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(0, 300000);
    auto response = client.Get(path, headers);
    return response ? response->status : 0;
  }

  // Stops the processes; returns their standard error, server's then worker's.
  std::vector<std::string> stop() {
    std::vector<std::string> logs;
    for (auto* process : {server_.get(), worker_.get()}) {
      if (process == nullptr) continue;
      process->signal(SIGTERM);
      CHECK(process->wait() == 0);
      logs.push_back(process->standardError());
    }
    return logs;
  }

  int serverPort() const { return server_port_; }
  int workerPort() const { return worker_port_; }
  const std::string& dir() const { return dir_; }

 private:
  void registerHook() {
    httplib::Client client("127.0.0.1", server_port_);
    auto response = client.Post(
        "/conduit/webhooks/register", {{"Authorization", "Bearer " + kAdminToken}},
        R"({"provider":"github","repo_path":"acme/app","repo_id":"app"})", "application/json");
    REQUIRE(response);
    REQUIRE(response->status == 201);
    secret_ = conduit::testing::jsonString(response->body, "/data/secret");
  }

  RedisServer redis_;
  std::string dir_ = redis_.directory();
  JiraSimulator jira_{conduit::jira_simulator::SimulatorOptions{}};
  int server_port_ = freeLoopbackPort();
  int worker_port_ = freeLoopbackPort();
  std::unique_ptr<Process> server_;
  std::unique_ptr<Process> worker_;
  std::string secret_;
};

// `promtool check metrics` on `text`: its exit status, with what it said.
int promtoolCheck(const std::string& dir, const std::string& text, std::string& said) {
  const std::string path = dir + "/scrape.txt";
  std::ofstream(path) << text;
  std::string out;
  std::string err;
  const int status =
      runToEnd({"/bin/sh", "-c", "promtool check metrics < '" + path + "'"}, &out, &err);
  said = out + err;
  return status;
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: promtool accepts real scrapes of serve and work - a delivery processed") {
  Site site("text");
  site.deliverAndProcess();

  auto served = site.scrape(site.serverPort(), kMetricsToken);
  REQUIRE(served);
  CHECK(served->status == 200);
  CHECK(served->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  std::string said;
  CHECK_MESSAGE(promtoolCheck(site.dir(), served->body, said) == 0, said, "\n", served->body);
  const std::string& server = served->body;
  CHECK(has(server,
            "conduit_deliveries_received_total{provider=\"github\",event=\"pull_request\","
            "outcome=\"queued\"} 1\n"));
  CHECK(has(server,
            "conduit_http_requests_total{route=\"/conduit/webhooks/:provider/:repo_id/"
            "payload\",code=\"202\"} 1\n"));
  CHECK(has(server,
            "conduit_http_requests_total{route=\"/conduit/webhooks/register\","
            "code=\"201\"} 1\n"));
  CHECK(has(server,
            "conduit_http_request_duration_seconds_bucket{route=\"/conduit/webhooks/"
            ":provider/:repo_id/payload\",le=\"+Inf\"} 1\n"));
  CHECK(has(server, "conduit_redis_up 1\n"));
  CHECK(has(server, "conduit_queue_length 0\n"));
  CHECK(has(server, "conduit_queue_oldest_age_seconds 0\n"));
  CHECK(has(server, "conduit_dead_letters 0\n"));
  CHECK(has(server, "conduit_build_info{version=\"" CONDUIT_VERSION_FOR_TESTS "\",abi=\"1."));
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_virtual_memory_bytes ", "process_open_fds ", "process_max_fds ",
                           "process_start_time_seconds "}) {
    CHECK_MESSAGE(has(server, std::string("\n") + name), name);
  }

  auto worked = site.scrape(site.workerPort(), kMetricsToken);
  REQUIRE(worked);
  CHECK(worked->status == 200);
  CHECK_MESSAGE(promtoolCheck(site.dir(), worked->body, said) == 0, said, "\n", worked->body);
  const std::string& worker = worked->body;
  CHECK(has(worker, "conduit_deliveries_processed_total{worker=\"atlassian\",outcome=\"ok\"} 1\n"));
  CHECK(has(worker, "conduit_delivery_latency_seconds_count{worker=\"atlassian\"} 1\n"));
  CHECK(has(worker,
            "conduit_plugin_events_total{worker=\"atlassian\",name=\"jira.transitions\"} 1\n"));
  CHECK(has(worker, "conduit_http_requests_total{route=\"/conduit-reactor/ping\",code=\"200\"}"));
  CHECK(has(worker, "conduit_redis_up 1\n"));
  CHECK(has(worker, "\nprocess_open_fds "));
  // The worker took in no delivery over HTTP: none of the ingress's series.
  CHECK_FALSE(has(worker, "conduit_deliveries_received_total{"));
  site.stop();
}

TEST_CASE("metrics: 401 without a token - 200 with metrics_token - not an admin token") {
  Site site("text");
  for (int port : {site.serverPort(), site.workerPort()}) {
    CAPTURE(port);
    auto none = site.scrape(port, std::nullopt);
    REQUIRE(none);
    CHECK(none->status == 401);
    auto wrong = site.scrape(port, kMetricsToken + "x");
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
    auto metrics = site.scrape(port, kMetricsToken);
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
    auto admin = site.scrape(port, kAdminToken);
    REQUIRE(admin);
    CHECK(admin->status == 200);
  }
  // The metrics_token opens /metrics only.
  CHECK(site.get(site.serverPort(), "/conduit/webhooks/list?provider=github",
                 {{"Authorization", "Bearer " + kMetricsToken}}) == 401);
  CHECK(site.get(site.serverPort(), "/conduit/webhooks/list?provider=github",
                 {{"Authorization", "Bearer " + kAdminToken}}) == 200);
  site.stop();
}

TEST_CASE("logs: log_format=json - every line of serve and work is a JSON object - with fields") {
  Site site("json");
  site.deliverAndProcess();
  const auto logs = site.stop();
  REQUIRE(logs.size() == 2);
  int lines_total = 0;
  int naming_delivery = 0;  // lines with the delivery's id as a field
  bool moved_line = false;
  bool access_line = false;
  for (const auto& log : logs) {
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      ++lines_total;
      CAPTURE(line);
      rapidjson::Document json;
      json.Parse(line.c_str());
      REQUIRE_FALSE(json.HasParseError());
      REQUIRE(json.IsObject());
      for (const char* member : {"time", "level", "msg"}) {
        REQUIRE(json.HasMember(member));
        REQUIRE(json[member].IsString());
      }
      const std::string time = json["time"].GetString();
      CHECK(time.size() == 24);  // 2026-12-05T14:02:03.123Z
      CHECK(time.back() == 'Z');
      const std::string msg = json["msg"].GetString();
      auto field = [&](const char* name) {
        return json.HasMember(name) && json[name].IsString() ? std::string(json[name].GetString())
                                                             : std::string();
      };
      if (msg.find(kDelivery) != std::string::npos) {
        // Every line naming the delivery carries its id as a field.
        CHECK(field("delivery") == kDelivery);
      }
      if (field("delivery") == kDelivery) ++naming_delivery;
      if (msg.find("SOC-1 moved from") != std::string::npos) {
        moved_line = true;
        CHECK(field("delivery") == kDelivery);
        CHECK(field("provider") == "github");
        CHECK(field("repo_id") == "app");
        CHECK(field("worker") == "atlassian");
        CHECK(field("issue") == "SOC-1");
        CHECK(json["level"] == "info");
      }
      if (msg.find("POST /conduit/webhooks/github/app/payload 202") == 0) {
        access_line = true;
        CHECK(field("delivery") == kDelivery);
      }
    }
  }
  CHECK(lines_total > 5);
  CHECK(naming_delivery >= 2);
  CHECK(moved_line);
  CHECK(access_line);
}

TEST_CASE("logs: text format - a plugin's line names the delivery it is about") {
  Site site("text", /*run_all=*/true);
  site.deliverAndProcess();
  const auto logs = site.stop();
  REQUIRE(logs.size() == 1);
  bool moved_line = false;
  std::istringstream lines(logs[0]);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("SOC-1 moved from") == std::string::npos) continue;
    moved_line = true;
    CHECK_MESSAGE(has(line, " delivery=" + kDelivery), line);
  }
  CHECK(moved_line);
}

TEST_CASE("metrics: Redis away - the scrape still answers at once - conduit_redis_up 0") {
  conduit::testing::ServerFixture server;
  server.redis().stop();
  auto client = server.client();
  const auto started = std::chrono::steady_clock::now();
  auto response = client.Get("/metrics");  // loopback, no admin_token: let in
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK(has(response->body, "conduit_redis_up 0\n"));
  CHECK_FALSE(has(response->body, "conduit_queue_length"));
  CHECK(has(response->body, "\nprocess_resident_memory_bytes "));
  server.redis().start();
  REQUIRE(eventually([&] {
    auto again = client.Get("/metrics");
    return again && has(again->body, "conduit_redis_up 1\n");
  }));
}

TEST_CASE("metrics: each outcome of the payload route - queued, duplicate, ping, refused") {
  conduit::testing::ServerFixture server;
  const std::string secret = server.registerHook("app");
  const std::string body = R"({"action":"opened"})";
  auto status = [](const httplib::Result& result) { return result ? result->status : 0; };
  CHECK(status(server.deliver("app", body, secret, "pull_request", "d-1")) == 202);
  CHECK(status(server.deliver("app", body, secret, "pull_request", "d-1")) == 200);
  CHECK(status(server.deliver("app", R"({"zen":"hi"})", secret, "ping", "d-ping")) == 200);
  CHECK(status(server.deliver("app", body, secret, "pull_request", "d-2", "application/json",
                              "sha256=" + std::string(64, '0'))) == 401);
  CHECK(status(server.deliver("no-such-hook", body, secret, "push", "d-3")) == 404);
  // An event name of the client's choosing is `other`: no series per header value.
  CHECK(status(server.deliver("app", body, secret, "made_up_event_1", "d-4")) == 202);
  CHECK(status(server.deliver("app", body, secret, "made_up_event_2", "d-5")) == 202);
  auto client = server.client();
  CHECK(status(client.Post("/conduit/webhooks/nohost/app/payload", body, "application/json")) ==
        404);

  auto scraped = client.Get("/metrics");
  REQUIRE(scraped);
  REQUIRE(scraped->status == 200);
  const std::string& text = scraped->body;
  const std::string prefix = "conduit_deliveries_received_total{provider=\"github\",event=";
  CHECK(has(text, prefix + "\"pull_request\",outcome=\"queued\"} 1\n"));
  CHECK(has(text, prefix + "\"pull_request\",outcome=\"duplicate\"} 1\n"));
  CHECK(has(text, prefix + "\"ping\",outcome=\"ping\"} 1\n"));
  CHECK(has(text, prefix + "\"pull_request\",outcome=\"refused\"} 1\n"));
  CHECK(has(text, prefix + "\"push\",outcome=\"refused\"} 1\n"));
  CHECK(has(text, prefix + "\"other\",outcome=\"queued\"} 2\n"));
  CHECK(has(text,
            "conduit_deliveries_received_total{provider=\"unknown\",event=\"other\","
            "outcome=\"refused\"} 1\n"));
  CHECK(has(text,
            "conduit_http_requests_total{route=\"/conduit/webhooks/:provider/:repo_id/"
            "payload\",code=\"401\"} 1\n"));
  CHECK(has(text, "conduit_queue_length 3\n"));  // d-1, d-4 and d-5: no worker runs here
  CHECK_FALSE(has(text, "made_up_event"));
  CHECK(client.Get("/no/such/route"));
  auto again = client.Get("/metrics");
  REQUIRE(again);
  CHECK(has(again->body, "conduit_http_requests_total{route=\"unmatched\",code=\"404\"} 1\n"));
  CHECK(has(again->body, "conduit_http_requests_total{route=\"/metrics\",code=\"200\"} 1\n"));
}

TEST_CASE("metrics: each worker's outcomes - ok, retry, failed - and the dead letters") {
  RedisServer redis;
  const std::string dir = redis.directory();
  const int port = freeLoopbackPort();
  std::ofstream(dir + "/app.env") << "redis_url=" << redis.url() << "\nbind=127.0.0.1\n"
                                  << "plugin_dir=" << CONDUIT_TEST_PLUGIN_DIR
                                  << "\nworker_port=" << port << "\nscripted_log=" << dir
                                  << "/calls.log\n"
                                  << "retry_initial_ms=50\nretry_max_ms=100\n"
                                  << "retry_max_attempts=2\nclaim_idle_ms=1000\n";
  fs::create_directories(dir + "/statemachines");
  fs::copy_file(std::string(CONDUIT_CONFIG_DIR) + "/statemachines/jira.hcl",
                dir + "/statemachines/jira.hcl");
  std::ofstream(dir + "/workers.yaml")
      << "workers:\n  first:\n    plugin: scripted\n    statefile: jira.hcl\n"
      << "    projects: [soc]\n  second:\n    plugin: scripted\n    statefile: jira.hcl\n"
      << "    projects: [soc]\n";
  Process worker({CONDUIT_BINARY, "work", "--config", dir + "/app.env", "--hcl-dir",
                  dir + "/statemachines", "--worker-cfg", dir + "/workers.yaml"});
  REQUIRE(eventually([&] {
    httplib::Client client("127.0.0.1", port);
    auto pong = client.Get("/conduit-reactor/ping");
    return pong && pong->status == 200;
  }));

  conduit::store::RedisPool pool(redis.endpoint(), std::chrono::seconds(2));
  conduit::queue::DeliveryQueue queue(pool);
  auto enqueue = [&](const std::string& id, const std::string& title) {
    const std::string payload = R"({"action":"closed","pull_request":{"title":")" + title +
                                R"(","merged":true,"html_url":"https://example.test/pr/1",)"
                                R"("head":{"ref":"feature/SOC-1"}}})";
    conduit::queue::Delivery delivery{
        "github", "repo", "org/repo", "pull_request", id, conduit::queue::unixTimeMs(), payload};
    queue.enqueue(delivery);
  };
  enqueue("d-1", "first=ok second=fail");
  enqueue("d-2", "first=retry-once");
  enqueue("d-3", "first=retry-always");  // retried once, then failed: 2 attempts at most
  conduit::store::RedisConnection direct(redis.endpoint(), std::chrono::seconds(2));
  REQUIRE(eventually([&] {
    return direct.command({"XLEN", conduit::queue::QueueNames::kStream}).integer == 0;
  }));

  httplib::Client client("127.0.0.1", port);
  auto scraped = client.Get("/metrics");  // loopback, no admin_token: let in
  REQUIRE(scraped);
  REQUIRE(scraped->status == 200);
  const std::string& text = scraped->body;
  const std::string prefix = "conduit_deliveries_processed_total{worker=";
  CHECK(has(text, prefix + "\"first\",outcome=\"ok\"} 2\n"));       // d-1, d-2's second attempt
  CHECK(has(text, prefix + "\"first\",outcome=\"retry\"} 2\n"));    // d-2, d-3's first attempts
  CHECK(has(text, prefix + "\"first\",outcome=\"failed\"} 1\n"));   // d-3, attempts used up
  CHECK(has(text, prefix + "\"second\",outcome=\"ok\"} 2\n"));      // d-2, d-3
  CHECK(has(text, prefix + "\"second\",outcome=\"failed\"} 1\n"));  // d-1
  CHECK(has(text, "conduit_delivery_latency_seconds_count{worker=\"first\"} 2\n"));
  CHECK(has(text, "conduit_delivery_latency_seconds_count{worker=\"second\"} 2\n"));
  CHECK(has(text, "conduit_dead_letters 2\n"));
  CHECK(has(text, "conduit_queue_length 0\n"));
  std::string said;
  CHECK_MESSAGE(promtoolCheck(dir, text, said) == 0, said);
  worker.signal(SIGTERM);
  CHECK(worker.wait() == 0);
}

TEST_CASE("logs: a delivery answered 503 while Redis is away - each of its lines names it") {
  for (const std::string format : {"text", "json"}) {
    CAPTURE(format);
    RedisServer redis;  // only for its folder: no Redis listens at the redis_url below
    const int port = freeLoopbackPort();
    std::ofstream(redis.directory() + "/app.env")
        << "redis_url=127.0.0.1:" << freeLoopbackPort() << "\nbind=127.0.0.1\nport=" << port
        << "\nlog_format=" << format << "\nredis_timeout_ms=200\n";
    Process server({CONDUIT_BINARY, "serve", "--config", redis.directory() + "/app.env"});
    REQUIRE(eventually([&] {
      httplib::Client client("127.0.0.1", port);
      auto pong = client.Get("/conduit/ping");
      return pong && pong->status == 200;
    }));
    httplib::Client client("127.0.0.1", port);
    auto answer = client.Post("/conduit/webhooks/github/app/payload",
                              {{"X-GitHub-Event", "push"},
                               {"X-GitHub-Delivery", kDelivery},
                               {"X-Hub-Signature-256", "sha256=" + std::string(64, '0')}},
                              "{}", "application/json");
    REQUIRE(answer);
    CHECK(answer->status == 503);
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
    int lines_about_it = 0;
    std::istringstream lines(server.standardError());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("/conduit/webhooks/github/app/payload") == std::string::npos) continue;
      ++lines_about_it;  // the router's warning, then the request's line
      CAPTURE(line);
      if (format == "text") {
        CHECK(has(line, kDelivery));
      } else {
        CHECK(has(line, "\"delivery\":\"" + kDelivery + "\""));
      }
    }
    CHECK(lines_about_it == 2);
  }
}
