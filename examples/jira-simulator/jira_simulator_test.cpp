#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "jira_simulator.hpp"

namespace {

using conduit::jira_simulator::JiraSimulator;
using conduit::jira_simulator::SimulatorOptions;

constexpr const char* kIssuePath = "/rest/api/2/issue/SOC-1";
constexpr const char* kTransitionsPath = "/rest/api/2/issue/SOC-1/transitions";

SimulatorOptions testOptions() {
  SimulatorOptions options;
  options.threads = 4;
  return options;
}

// A client that authenticates as the default options expect; httplib's own base64 encodes the
// credentials, which checks the simulator's encoder too.
httplib::Client client(const JiraSimulator& simulator) {
  httplib::Client client(simulator.url());
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  const SimulatorOptions defaults;
  client.set_basic_auth(defaults.email.c_str(), defaults.api_token.c_str());
  return client;
}

httplib::Result transition(httplib::Client& client, const std::string& id) {
  return client.Post(kTransitionsPath, R"({"transition":{"id":")" + id + "\"}}",
                     "application/json");
}

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str());
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

std::string stringAt(const rapidjson::Document& document, const char* pointer) {
  const rapidjson::Value* value = rapidjson::Pointer(pointer).Get(document);
  REQUIRE(value != nullptr);
  REQUIRE(value->IsString());
  return value->GetString();
}

std::string firstErrorMessage(const std::string& body) {
  return stringAt(parse(body), "/errorMessages/0");
}

}  // namespace

TEST_CASE("GET of a new issue answers To Do with the one transition from it") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);

  auto response = http.Get("/rest/api/2/issue/SOC-1?fields=status&expand=transitions");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->get_header_value("Content-Type") == "application/json");
  auto issue = parse(response->body);
  CHECK_FALSE(stringAt(issue, "/id").empty());
  CHECK(stringAt(issue, "/key") == "SOC-1");
  CHECK(stringAt(issue, "/fields/status/id") == "1");
  CHECK(stringAt(issue, "/fields/status/name") == "To Do");
  REQUIRE(issue["transitions"].Size() == 1);
  CHECK(stringAt(issue, "/transitions/0/id") == "11");
  CHECK(stringAt(issue, "/transitions/0/name") == "Start work");
  CHECK(stringAt(issue, "/transitions/0/to/id") == "3");
  CHECK(stringAt(issue, "/transitions/0/to/name") == "In Progress");
  CHECK(simulator.status("SOC-1") == "To Do");
  CHECK(simulator.requestCount() == 1);
}

TEST_CASE("a transition moves the issue and the next GET shows the new status and transitions") {
  std::vector<std::string> log;
  std::mutex log_mutex;
  SimulatorOptions options = testOptions();
  options.log = [&](const std::string& line) {
    std::lock_guard lock(log_mutex);
    log.push_back(line);
  };
  JiraSimulator simulator(options);
  simulator.start();
  auto http = client(simulator);

  auto moved = transition(http, "11");
  REQUIRE(moved);
  CHECK(moved->status == 204);
  CHECK(moved->body.empty());
  CHECK(simulator.status("SOC-1") == "In Progress");
  CHECK(simulator.transitionsApplied("SOC-1") == 1);
  CHECK(simulator.totalTransitionsApplied() == 1);

  auto response = http.Get(kIssuePath);
  REQUIRE(response);
  auto issue = parse(response->body);
  CHECK(stringAt(issue, "/fields/status/name") == "In Progress");
  REQUIRE(issue["transitions"].Size() == 2);
  CHECK(stringAt(issue, "/transitions/0/name") == "Finish");
  CHECK(stringAt(issue, "/transitions/0/to/name") == "Done");
  CHECK(stringAt(issue, "/transitions/1/name") == "Stop work");
  CHECK(stringAt(issue, "/transitions/1/to/name") == "To Do");

  REQUIRE(transition(http, "21"));
  CHECK(simulator.status("SOC-1") == "Done");
  CHECK(simulator.status("SOC-2") == "To Do");  // another issue is untouched
  std::lock_guard lock(log_mutex);
  CHECK(log == std::vector<std::string>{"SOC-1: To Do -> In Progress (Start work)",
                                        "SOC-1: In Progress -> Done (Finish)"});
}

TEST_CASE("an unavailable transition id gets 400 and changes nothing") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);

  for (const char* id : {"99", "21", "41"}) {
    auto response = transition(http, id);
    REQUIRE(response);
    CHECK(response->status == 400);
    CHECK(firstErrorMessage(response->body) ==
          "Transition id '" + std::string(id) + "' is not valid for this issue.");
  }
  CHECK(simulator.status("SOC-1") == "To Do");
  CHECK(simulator.transitionsApplied("SOC-1") == 0);
  CHECK(simulator.totalTransitionsApplied() == 0);
}

TEST_CASE("a transition body of the wrong shape gets 400 naming what is wrong") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);

  auto not_json = http.Post(kTransitionsPath, "{", "application/json");
  REQUIRE(not_json);
  CHECK(not_json->status == 400);
  CHECK(firstErrorMessage(not_json->body).find("not valid JSON") != std::string::npos);

  auto no_transition = http.Post(kTransitionsPath, R"({"id":"11"})", "application/json");
  REQUIRE(no_transition);
  CHECK(no_transition->status == 400);
  CHECK(firstErrorMessage(no_transition->body).find("\"transition\"") != std::string::npos);

  auto numeric_id = http.Post(kTransitionsPath, R"({"transition":{"id":11}})", "application/json");
  REQUIRE(numeric_id);
  CHECK(numeric_id->status == 400);
  CHECK(firstErrorMessage(numeric_id->body).find("\"id\"") != std::string::npos);
  CHECK(simulator.status("SOC-1") == "To Do");
}

TEST_CASE("a request without or with a wrong Authorization gets 401") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  httplib::Client http(simulator.url());
  const std::string expected_message =
      "You are not authenticated. Authentication required to perform this operation.";

  auto anonymous = http.Get(kIssuePath);
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(firstErrorMessage(anonymous->body) == expected_message);

  http.set_basic_auth("dev@example.test", "wrong-token");
  auto wrong_token = transition(http, "11");
  REQUIRE(wrong_token);
  CHECK(wrong_token->status == 401);

  http.set_bearer_token_auth("simulator-token");
  auto wrong_scheme = http.Get(kIssuePath);
  REQUIRE(wrong_scheme);
  CHECK(wrong_scheme->status == 401);
  CHECK(simulator.status("SOC-1") == "To Do");
}

TEST_CASE("Basic auth works for credentials of every length modulo 3") {
  // base64 pads one, two or no '=' depending on the length; each case must match.
  for (const char* token : {"t", "tt", "ttt"}) {
    SimulatorOptions options = testOptions();
    options.api_token = token;
    JiraSimulator simulator(options);
    simulator.start();
    httplib::Client http(simulator.url());
    http.set_basic_auth(options.email.c_str(), token);
    auto response = http.Get(kIssuePath);
    REQUIRE(response);
    CHECK(response->status == 200);
  }
}

TEST_CASE("Bearer mode accepts the personal access token and refuses Basic") {
  SimulatorOptions options = testOptions();
  options.pat = "data-center-pat";
  JiraSimulator simulator(options);
  simulator.start();
  httplib::Client http(simulator.url());

  http.set_bearer_token_auth("data-center-pat");
  auto bearer = http.Get(kIssuePath);
  REQUIRE(bearer);
  CHECK(bearer->status == 200);

  http.set_bearer_token_auth("other-pat");
  auto wrong = http.Get(kIssuePath);
  REQUIRE(wrong);
  CHECK(wrong->status == 401);

  httplib::Client basic = client(simulator);
  auto refused = basic.Get(kIssuePath);
  REQUIRE(refused);
  CHECK(refused->status == 401);
}

TEST_CASE("an unknown project and a removed issue answer 404") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  const std::string expected_message =
      "Issue does not exist or you do not have permission to see it.";

  for (const char* path : {"/rest/api/2/issue/OTHER-1", "/rest/api/2/issue/soc-1",
                           "/rest/api/2/issue/SOC-x", "/rest/api/2/issue/SOC"}) {
    auto response = http.Get(path);
    REQUIRE(response);
    CHECK(response->status == 404);
    CHECK(firstErrorMessage(response->body) == expected_message);
  }
  auto devhop = http.Get("/rest/api/2/issue/DEVHOP-7");
  REQUIRE(devhop);
  CHECK(devhop->status == 200);

  simulator.removeIssue("SOC-1");
  auto removed = http.Get(kIssuePath);
  REQUIRE(removed);
  CHECK(removed->status == 404);
  auto removed_transition = transition(http, "11");
  REQUIRE(removed_transition);
  CHECK(removed_transition->status == 404);
  auto removed_comment =
      http.Post("/rest/api/2/issue/SOC-1/comment", R"({"body":"x"})", "application/json");
  REQUIRE(removed_comment);
  CHECK(removed_comment->status == 404);
  CHECK(simulator.totalTransitionsApplied() == 0);
}

TEST_CASE("an unknown route answers 404") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);

  auto other_route = http.Get("/rest/api/2/myself");
  REQUIRE(other_route);
  CHECK(other_route->status == 404);
  auto wrong_method = http.Delete(kIssuePath);
  REQUIRE(wrong_method);
  CHECK(wrong_method->status == 404);
  CHECK(simulator.requestCount() == 2);
}

TEST_CASE("comments are recorded in order") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  const std::string comment_path = "/rest/api/2/issue/SOC-1/comment";

  auto first = http.Post(comment_path, R"({"body":"PR #12 opened"})", "application/json");
  REQUIRE(first);
  CHECK(first->status == 201);
  auto created = parse(first->body);
  CHECK_FALSE(stringAt(created, "/id").empty());
  CHECK(stringAt(created, "/body") == "PR #12 opened");

  auto second = http.Post(comment_path, R"({"body":"merged \"now\"\n\u00e9"})", "application/json");
  REQUIRE(second);
  CHECK(second->status == 201);
  CHECK(stringAt(parse(second->body), "/body") == "merged \"now\"\n\u00e9");

  auto missing = http.Post(comment_path, R"({"text":"no body"})", "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 400);

  CHECK(simulator.comments("SOC-1") ==
        std::vector<std::string>{"PR #12 opened", "merged \"now\"\n\u00e9"});
  CHECK(simulator.comments("SOC-2").empty());
}

TEST_CASE("failNext answers its status and Retry-After for exactly the given number of requests") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  simulator.failNext("POST", "/rest/api/2/issue/SOC-1/", 429, 2, 7);

  auto unmatched = http.Get(kIssuePath);  // another method: served
  REQUIRE(unmatched);
  CHECK(unmatched->status == 200);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto failed = transition(http, "11");
    REQUIRE(failed);
    CHECK(failed->status == 429);
    CHECK(failed->get_header_value("Retry-After") == "7");
    CHECK_FALSE(firstErrorMessage(failed->body).empty());
  }
  CHECK(simulator.status("SOC-1") == "To Do");

  auto served = transition(http, "11");
  REQUIRE(served);
  CHECK(served->status == 204);
  CHECK_FALSE(served->has_header("Retry-After"));
  CHECK(simulator.status("SOC-1") == "In Progress");
  CHECK(simulator.requestCount() == 4);

  // Faults come before the Authorization check, and without retry_after_seconds no header.
  simulator.failNext("GET", "/rest/", 503);
  httplib::Client anonymous(simulator.url());
  auto unavailable = anonymous.Get(kIssuePath);
  REQUIRE(unavailable);
  CHECK(unavailable->status == 503);
  CHECK_FALSE(unavailable->has_header("Retry-After"));
}

TEST_CASE("the delay is added to every answer") {
  SimulatorOptions options = testOptions();
  options.delay = std::chrono::milliseconds(150);
  JiraSimulator simulator(options);
  simulator.start();
  auto http = client(simulator);

  const auto started = std::chrono::steady_clock::now();
  auto response = http.Get(kIssuePath);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(elapsed >= options.delay);
}

TEST_CASE("start names the address when the port is taken") {
  JiraSimulator first(testOptions());
  first.start();
  SimulatorOptions options = testOptions();
  options.port = first.port();
  JiraSimulator second(options);
  try {
    second.start();
    FAIL("start() did not throw");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())) !=
          std::string::npos);
  }
}

TEST_CASE("setStatus sets any status and one outside the workflow has no transitions") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);

  simulator.setStatus("SOC-1", "Done");
  auto done = http.Get(kIssuePath);
  REQUIRE(done);
  auto issue = parse(done->body);
  CHECK(stringAt(issue, "/fields/status/id") == "10001");
  REQUIRE(issue["transitions"].Size() == 1);
  CHECK(stringAt(issue, "/transitions/0/name") == "Reopen");

  simulator.setStatus("SOC-1", "Blocked");
  auto blocked = http.Get(kIssuePath);
  REQUIRE(blocked);
  auto blocked_issue = parse(blocked->body);
  CHECK(stringAt(blocked_issue, "/fields/status/name") == "Blocked");
  CHECK(blocked_issue["transitions"].Empty());

  CHECK_THROWS_AS(simulator.setStatus("OTHER-1", "Done"), std::invalid_argument);
}

TEST_CASE("stop right after start returns") {
  for (int round = 0; round < 50; ++round) {
    JiraSimulator simulator(testOptions());
    simulator.start();
    simulator.stop();
  }
}

TEST_CASE("GET comment pages the comments as Jira does, honouring startAt and maxResults") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  const std::string comment_path = "/rest/api/2/issue/SOC-1/comment";
  for (int i = 0; i < 5; ++i) {
    REQUIRE(
        http.Post(comment_path, R"({"body":"c)" + std::to_string(i) + "\"}", "application/json"));
  }

  auto all = http.Get(comment_path);
  REQUIRE(all);
  CHECK(all->status == 200);
  auto page = parse(all->body);
  CHECK(page["startAt"].GetInt() == 0);
  CHECK(page["total"].GetInt() == 5);
  REQUIRE(page["comments"].Size() == 5);
  CHECK(stringAt(page, "/comments/0/body") == "c0");
  CHECK_FALSE(stringAt(page, "/comments/0/id").empty());

  auto middle = http.Get(comment_path + "?startAt=3&maxResults=1");
  REQUIRE(middle);
  auto middle_page = parse(middle->body);
  CHECK(middle_page["startAt"].GetInt() == 3);
  CHECK(middle_page["maxResults"].GetInt() == 1);
  CHECK(middle_page["total"].GetInt() == 5);
  REQUIRE(middle_page["comments"].Size() == 1);
  CHECK(stringAt(middle_page, "/comments/0/body") == "c3");

  auto past_end = http.Get(comment_path + "?startAt=9");
  REQUIRE(past_end);
  CHECK(parse(past_end->body)["comments"].Empty());
  auto bad = http.Get(comment_path + "?maxResults=-1");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  auto none = http.Get("/rest/api/2/issue/SOC-2/comment");
  REQUIRE(none);
  CHECK(parse(none->body)["total"].GetInt() == 0);
  auto missing = http.Get("/rest/api/2/issue/OTHER-1/comment");
  REQUIRE(missing);
  CHECK(missing->status == 404);
}

TEST_CASE("a worklog is recorded") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  auto logged =
      http.Post("/rest/api/2/issue/SOC-1/worklog", R"({"timeSpent":"1h"})", "application/json");
  REQUIRE(logged);
  CHECK(logged->status == 201);
  auto bad =
      http.Post("/rest/api/2/issue/SOC-1/worklog", R"({"timeSpentSeconds":0})", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(simulator.worklogCount("SOC-1") == 1);
}

TEST_CASE("dropAnswerNext applies the change and closes the connection without an answer") {
  std::vector<std::string> log;
  std::mutex log_mutex;
  SimulatorOptions options = testOptions();
  options.log = [&](const std::string& line) {
    std::lock_guard lock(log_mutex);
    log.push_back(line);
  };
  JiraSimulator simulator(options);
  simulator.start();
  auto http = client(simulator);
  simulator.dropAnswerNext("POST", "/rest/api/2/issue/SOC-1/");

  auto dropped = transition(http, "11");
  CHECK_FALSE(dropped);  // no status line at all
  CHECK(simulator.status("SOC-1") == "In Progress");
  CHECK(simulator.faultCounts().dropped == 1);

  auto next = transition(http, "21");  // a new connection is served as usual
  REQUIRE(next);
  CHECK(next->status == 204);
  CHECK(simulator.transitionHistory("SOC-1") == std::vector<std::string>{"Start work", "Finish"});
  std::lock_guard lock(log_mutex);
  CHECK(log == std::vector<std::string>{"SOC-1: To Do -> In Progress (Start work)",
                                        "fault: dropped POST " + std::string(kTransitionsPath),
                                        "SOC-1: In Progress -> Done (Finish)"});
}

TEST_CASE(
    "hangNext holds the answer past the client's timeout, changes nothing, and stop ends it") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  simulator.hangNext("POST", "/rest/api/2/issue/", std::chrono::seconds(60));

  auto http = client(simulator);
  http.set_read_timeout(1);
  const auto started = std::chrono::steady_clock::now();
  auto timed_out = transition(http, "11");
  CHECK_FALSE(timed_out);
  CHECK(simulator.status("SOC-1") == "To Do");
  CHECK(simulator.faultCounts().timeout == 1);
  simulator.stop();  // does not wait for the 60 s hang
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
}

TEST_CASE("a short hang ends in a 500") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  simulator.hangNext("GET", "/rest/", std::chrono::milliseconds(200));
  auto http = client(simulator);
  const auto started = std::chrono::steady_clock::now();
  auto response = http.Get(kIssuePath);
  REQUIRE(response);
  CHECK(response->status == 500);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(200));
}

TEST_CASE("random faults come in turn: 429 with Retry-After 1, 500, a hang, a dropped answer") {
  std::vector<std::string> log;
  std::mutex log_mutex;
  SimulatorOptions options = testOptions();
  options.fault_rate = 1;
  options.fault_hang = std::chrono::milliseconds(100);
  options.log = [&](const std::string& line) {
    std::lock_guard lock(log_mutex);
    log.push_back(line);
  };
  JiraSimulator simulator(options);
  simulator.start();
  auto http = client(simulator);

  auto rate_limited = transition(http, "11");
  REQUIRE(rate_limited);
  CHECK(rate_limited->status == 429);
  CHECK(rate_limited->get_header_value("Retry-After") == "1");
  auto server_error = transition(http, "11");
  REQUIRE(server_error);
  CHECK(server_error->status == 500);
  auto hung = transition(http, "11");
  REQUIRE(hung);  // the hang is short here; a client with a shorter timeout gives up first
  CHECK(hung->status == 500);
  CHECK(simulator.status("SOC-1") == "To Do");
  auto dropped = transition(http, "11");
  CHECK_FALSE(dropped);
  CHECK(simulator.status("SOC-1") == "In Progress");
  auto again = transition(http, "21");
  REQUIRE(again);
  CHECK(again->status == 429);

  const auto counts = simulator.faultCounts();
  CHECK(counts.rate_limited == 2);
  CHECK(counts.server_error == 1);
  CHECK(counts.timeout == 1);
  CHECK(counts.dropped == 1);
  std::lock_guard lock(log_mutex);
  const std::string where = "POST " + std::string(kTransitionsPath);
  CHECK(log == std::vector<std::string>{"fault: rate_limited " + where,
                                        "fault: server_error " + where, "fault: timeout " + where,
                                        "SOC-1: To Do -> In Progress (Start work)",
                                        "fault: dropped " + where, "fault: rate_limited " + where});
}

// Which of `count` GETs got a fault.
std::vector<bool> faultPattern(double rate, uint64_t seed, int count) {
  SimulatorOptions options = testOptions();
  options.fault_rate = rate;
  options.fault_seed = seed;
  options.fault_hang = std::chrono::milliseconds(0);
  JiraSimulator simulator(options);
  simulator.start();
  auto http = client(simulator);
  std::vector<bool> pattern;
  for (int i = 0; i < count; ++i) {
    auto response = http.Get(kIssuePath);
    pattern.push_back(!response || response->status != 200);
  }
  return pattern;
}

TEST_CASE("the fault rate is about the share of requests faulted, and a seed replays them") {
  const auto first = faultPattern(0.25, 7, 200);
  const auto count = std::count(first.begin(), first.end(), true);
  CHECK(count > 20);
  CHECK(count < 80);
  CHECK(faultPattern(0.25, 7, 200) == first);
  CHECK(faultPattern(0.25, 8, 200) != first);
  const auto none = faultPattern(0, 7, 50);
  CHECK(std::count(none.begin(), none.end(), true) == 0);
}

TEST_CASE("GET /simulator/issues tells every issue's history, the faults and the requests") {
  SimulatorOptions options = testOptions();
  options.fault_rate = 1;  // the first REST request gets a 429; /simulator/ is never faulted
  JiraSimulator simulator(options);
  simulator.start();
  auto http = client(simulator);
  auto limited = transition(http, "11");
  REQUIRE(limited);
  CHECK(limited->status == 429);
  simulator.failNext("GET", "/nothing", 500);  // unmatched: no effect
  simulator.reset();                           // back to the seed's first fault; forgets the above
  REQUIRE(transition(http, "11"));             // 429 again
  simulator.setStatus("SOC-1", "In Progress");
  simulator.setStatus("SOC-2", "To Do");

  auto response = http.Get("/simulator/issues");
  REQUIRE(response);
  CHECK(response->status == 200);
  auto state = parse(response->body);
  REQUIRE(state["issues"].Size() == 2);
  CHECK(stringAt(state, "/issues/0/key") == "SOC-1");
  CHECK(stringAt(state, "/issues/0/status") == "In Progress");
  CHECK(state["issues"][0]["transitions"].Empty());
  CHECK(state["issues"][0]["comments"].Empty());
  CHECK(state["faults"]["rate_limited"].GetInt() == 1);
  CHECK(state["faults"]["server_error"].GetInt() == 0);
  CHECK(state["faults"]["timeout"].GetInt() == 0);
  CHECK(state["faults"]["dropped"].GetInt() == 0);
  CHECK(state["requests"].GetInt() == 1);

  httplib::Client anonymous(simulator.url());
  auto refused = anonymous.Get("/simulator/issues");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  auto reset = http.Post("/simulator/reset", "", "application/json");
  REQUIRE(reset);
  CHECK(reset->status == 204);
  auto after = http.Get("/simulator/issues");
  REQUIRE(after);
  auto cleared = parse(after->body);
  CHECK(cleared["issues"].Empty());
  CHECK(cleared["requests"].GetInt() == 0);
  CHECK(cleared["faults"]["rate_limited"].GetInt() == 0);
}

TEST_CASE("GET /simulator/issues lists transitions in the order applied, and comments") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  REQUIRE(transition(http, "11"));
  REQUIRE(transition(http, "31"));
  REQUIRE(transition(http, "11"));
  REQUIRE(http.Post("/rest/api/2/issue/SOC-1/comment", R"({"body":"hi"})", "application/json"));
  auto response = http.Get("/simulator/issues");
  REQUIRE(response);
  auto state = parse(response->body);
  REQUIRE(state["issues"].Size() == 1);
  const auto& transitions = state["issues"][0]["transitions"];
  REQUIRE(transitions.Size() == 3);
  CHECK(std::string(transitions[0]["name"].GetString()) == "Start work");
  CHECK(std::string(transitions[0]["to"].GetString()) == "In Progress");
  CHECK(std::string(transitions[1]["name"].GetString()) == "Stop work");
  CHECK(std::string(transitions[1]["to"].GetString()) == "To Do");
  CHECK(std::string(transitions[2]["name"].GetString()) == "Start work");
  CHECK(stringAt(state, "/issues/0/comments/0") == "hi");
  CHECK(state["requests"].GetInt() == 4);
}
