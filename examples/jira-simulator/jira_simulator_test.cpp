#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
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
