#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
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

TEST_CASE("a worklog is recorded with its seconds, comment and author, and listed") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  auto logged = http.Post("/rest/api/2/issue/SOC-1/worklog",
                          R"({"timeSpentSeconds":5400,"comment":"Fixed the login page"})",
                          "application/json");
  REQUIRE(logged);
  CHECK(logged->status == 201);
  auto worklog = parse(logged->body);
  CHECK(worklog["timeSpentSeconds"].GetInt() == 5400);
  CHECK(stringAt(worklog, "/timeSpent") == "1h 30m");
  CHECK(stringAt(worklog, "/comment") == "Fixed the login page");
  CHECK(stringAt(worklog, "/author/emailAddress") == "dev@example.test");
  CHECK_FALSE(stringAt(worklog, "/id").empty());
  CHECK_FALSE(stringAt(worklog, "/issueId").empty());
  CHECK_FALSE(stringAt(worklog, "/started").empty());

  // Jira's own units: 1w = 5d, 1d = 8h; decimals allowed.
  auto text = http.Post("/rest/api/2/issue/SOC-1/worklog", R"({"timeSpent":"1w 1d 1.5h"})",
                        "application/json");
  REQUIRE(text);
  CHECK(text->status == 201);
  CHECK(parse(text->body)["timeSpentSeconds"].GetInt() == (40 + 8 + 1) * 3600 + 1800);
  for (const char* bad : {R"({"timeSpentSeconds":0})", R"({"timeSpent":"1x"})",
                          R"({"timeSpentSeconds":60,"comment":{"type":"doc"}})", "{"}) {
    auto refused = http.Post("/rest/api/2/issue/SOC-1/worklog", bad, "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 400);
  }
  auto missing = http.Post("/rest/api/2/issue/OTHER-1/worklog", R"({"timeSpentSeconds":60})",
                           "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 404);

  CHECK(simulator.worklogCount("SOC-1") == 2);
  const auto worklogs = simulator.worklogs("SOC-1");
  REQUIRE(worklogs.size() == 2);
  CHECK(worklogs[0].seconds == 5400);
  CHECK(worklogs[0].comment == "Fixed the login page");
  CHECK(worklogs[0].author == "dev@example.test");
  CHECK(worklogs[1].comment.empty());
  CHECK(simulator.worklogs("SOC-2").empty());

  auto listed = http.Get("/rest/api/2/issue/SOC-1/worklog");
  REQUIRE(listed);
  CHECK(listed->status == 200);
  auto page = parse(listed->body);
  CHECK(page["total"].GetInt() == 2);
  REQUIRE(page["worklogs"].Size() == 2);
  CHECK(page["worklogs"][0]["timeSpentSeconds"].GetInt() == 5400);
  CHECK(stringAt(page, "/worklogs/0/comment") == "Fixed the login page");
  CHECK(stringAt(page, "/worklogs/0/id") == worklogs[0].id);
}

TEST_CASE("a project's versions: listed, created by key or id, a duplicate name refused") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  auto none = http.Get("/rest/api/2/project/SOC/versions");
  REQUIRE(none);
  CHECK(none->status == 200);
  CHECK(parse(none->body).IsArray());
  CHECK(parse(none->body).Empty());

  auto created =
      http.Post("/rest/api/2/version",
                R"({"name":"v1.0.0","project":"SOC","released":true,"releaseDate":"2026-12-05"})",
                "application/json");
  REQUIRE(created);
  CHECK(created->status == 201);
  auto version = parse(created->body);
  CHECK(stringAt(version, "/name") == "v1.0.0");
  CHECK(version["released"].GetBool());
  CHECK_FALSE(version["archived"].GetBool());
  CHECK(stringAt(version, "/releaseDate") == "2026-12-05");
  CHECK(version["projectId"].IsInt());
  CHECK(stringAt(version, "/self") ==
        simulator.url() + "/rest/api/2/version/" + stringAt(version, "/id"));

  // Jira compares version names ignoring case.
  for (const char* duplicate : {R"({"name":"v1.0.0","project":"SOC"})",
                                R"({"name":"V1.0.0","project":"SOC","released":true})"}) {
    auto refused = http.Post("/rest/api/2/version", duplicate, "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 400);
    auto error = parse(refused->body);
    CHECK(error["errorMessages"].Empty());
    CHECK(stringAt(error, "/errors/name") ==
          "A version with this name already exists in this project.");
  }
  // By projectId, as a number or a string; the same name in another project is another version.
  const int devhop_id = 10001;
  auto by_id = http.Post("/rest/api/2/version",
                         R"({"name":"v1.0.0","projectId":)" + std::to_string(devhop_id) + "}",
                         "application/json");
  REQUIRE(by_id);
  CHECK(by_id->status == 201);
  CHECK(parse(by_id->body)["projectId"].GetInt() == devhop_id);
  auto by_text_id =
      http.Post("/rest/api/2/version", R"({"name":"v2","projectId":"10000"})", "application/json");
  REQUIRE(by_text_id);
  CHECK(by_text_id->status == 201);

  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"project":"SOC"})", "name"},
           {R"({"name":"","project":"SOC"})", "name"},
           {R"({"name":")" + std::string(256, 'x') + R"(","project":"SOC"})", "name"},
           {R"({"name":"v3"})", "project"},
           {R"({"name":"v3","project":"OTHER"})", "project"},
           {R"({"name":"v3","project":"SOC","releaseDate":"5/Dec/26"})", "releaseDate"}}) {
    CAPTURE(body);
    auto refused = http.Post("/rest/api/2/version", body, "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 400);
    CHECK_FALSE(stringAt(parse(refused->body), ("/errors/" + field).c_str()).empty());
  }

  auto listed = http.Get("/rest/api/2/project/SOC/versions");
  REQUIRE(listed);
  auto versions = parse(listed->body);
  REQUIRE(versions.Size() == 2);
  CHECK(stringAt(versions, "/0/name") == "v1.0.0");
  CHECK(stringAt(versions, "/1/name") == "v2");
  CHECK_FALSE(versions[1]["released"].GetBool());
  CHECK_FALSE(versions[1].HasMember("releaseDate"));  // Jira leaves it out when there is none
  auto unknown = http.Get("/rest/api/2/project/OTHER/versions");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  CHECK(firstErrorMessage(unknown->body) == "No project could be found with key 'OTHER'.");

  const auto soc = simulator.versions("SOC");
  REQUIRE(soc.size() == 2);
  CHECK(soc[0].name == "v1.0.0");
  CHECK(soc[0].released);
  CHECK(soc[0].release_date == "2026-12-05");
  CHECK(simulator.versions("DEVHOP").size() == 1);
  CHECK(simulator.versions("OTHER").empty());
}

TEST_CASE("addVersion makes a version beforehand, once per name") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  const std::string id = simulator.addVersion("SOC", "v0.9", true, "2026-11-01");
  CHECK(simulator.addVersion("SOC", "V0.9") == id);
  CHECK_THROWS_AS(simulator.addVersion("OTHER", "v1"), std::invalid_argument);
  CHECK_THROWS_AS(simulator.addVersion("SOC", ""), std::invalid_argument);
  auto http = client(simulator);
  auto listed = http.Get("/rest/api/2/project/SOC/versions");
  REQUIRE(listed);
  auto versions = parse(listed->body);
  REQUIRE(versions.Size() == 1);
  CHECK(stringAt(versions, "/0/id") == id);
  CHECK(stringAt(versions, "/0/releaseDate") == "2026-11-01");
}

TEST_CASE("PUT issue adds, sets and removes fix versions, and GET issue shows them") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  simulator.addVersion("SOC", "v1.0.0");
  const std::string v2 = simulator.addVersion("SOC", "v2.0.0");
  auto http = client(simulator);
  auto put = [&](const std::string& body) {
    auto response = http.Put(kIssuePath, body, "application/json");
    REQUIRE(response);
    return *response;
  };

  CHECK(put(R"({"update":{"fixVersions":[{"add":{"name":"v1.0.0"}}]}})").status == 204);
  CHECK(simulator.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});
  // Adding one the issue has changes nothing.
  CHECK(put(R"({"update":{"fixVersions":[{"add":{"name":"v1.0.0"}}]}})").status == 204);
  CHECK(put(R"({"update":{"fixVersions":[{"add":{"id":")" + v2 + R"("}}]}})").status == 204);
  CHECK(simulator.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0", "v2.0.0"});

  auto issue = http.Get(kIssuePath);
  REQUIRE(issue);
  auto fields = parse(issue->body);
  REQUIRE(fields["fields"]["fixVersions"].Size() == 2);
  CHECK(stringAt(fields, "/fields/fixVersions/0/name") == "v1.0.0");
  CHECK(stringAt(fields, "/fields/fixVersions/1/id") == v2);
  CHECK(stringAt(fields, "/fields/status/name") == "To Do");
  auto asked = http.Get("/rest/api/2/issue/SOC-1?fields=status,fixVersions");
  REQUIRE(asked);
  CHECK(parse(asked->body)["fields"]["fixVersions"].Size() == 2);
  auto status_only = http.Get("/rest/api/2/issue/SOC-1?fields=status&expand=transitions");
  REQUIRE(status_only);
  CHECK_FALSE(parse(status_only->body)["fields"].HasMember("fixVersions"));

  CHECK(put(R"({"update":{"fixVersions":[{"remove":{"name":"v1.0.0"}}]}})").status == 204);
  CHECK(simulator.fixVersions("SOC-1") == std::vector<std::string>{"v2.0.0"});
  CHECK(put(R"({"update":{"fixVersions":[{"set":[{"name":"v1.0.0"}]}]}})").status == 204);
  CHECK(simulator.fixVersions("SOC-1") == std::vector<std::string>{"v1.0.0"});
  CHECK(put(R"({"fields":{"fixVersions":[]}})").status == 204);
  CHECK(simulator.fixVersions("SOC-1").empty());

  // A name the project lacks: 400 as Jira words it, and nothing of the edit is applied.
  auto unknown =
      put(R"({"update":{"fixVersions":[{"add":{"name":"v1.0.0"}},{"add":{"name":"v9"}}]}})");
  CHECK(unknown.status == 400);
  CHECK(stringAt(parse(unknown.body), "/errors/fixVersions") == "Version name 'v9' is not valid");
  CHECK(simulator.fixVersions("SOC-1").empty());
  // A version of another project is not the issue's project's.
  simulator.addVersion("DEVHOP", "v7");
  CHECK(put(R"({"update":{"fixVersions":[{"add":{"name":"v7"}}]}})").status == 400);
  CHECK(put(R"({"update":{"summary":[{"set":"x"}]}})").status == 400);
  CHECK(put(R"({"update":{"fixVersions":[{"copy":{"name":"v1.0.0"}}]}})").status == 400);
  CHECK(put("not json").status == 400);
  auto missing =
      http.Put("/rest/api/2/issue/OTHER-1",
               R"({"update":{"fixVersions":[{"add":{"name":"v1.0.0"}}]}})", "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 404);
}

TEST_CASE("a remote link's globalId makes a second POST update it, not add one") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  auto http = client(simulator);
  const std::string url = "https://github.com/acme/sample/pull/12";
  auto link = [&](const std::string& global_id, const std::string& title) {
    auto response = http.Post("/rest/api/2/issue/SOC-1/remotelink",
                              R"({"globalId":")" + global_id +
                                  R"(","application":{"type":"com.github","name":"GitHub"},)"
                                  R"("relationship":"mentioned in","object":{"url":")" +
                                  global_id + R"(","title":")" + title +
                                  R"(","icon":{"url16x16":"https://github.com/favicon.ico"}}})",
                              "application/json");
    REQUIRE(response);
    return *response;
  };
  auto created = link(url, "PR #12: Sign-in with SSO");
  CHECK(created.status == 201);
  const int id = parse(created.body)["id"].GetInt();
  CHECK(stringAt(parse(created.body), "/self") ==
        simulator.url() + "/rest/api/2/issue/SOC-1/remotelink/" + std::to_string(id));
  auto updated = link(url, "PR #12: Sign-in with SSO (merged)");
  CHECK(updated.status == 200);
  CHECK(parse(updated.body)["id"].GetInt() == id);
  auto other = link("https://github.com/acme/sample/releases/tag/v1.0.0", "Release v1.0.0");
  CHECK(other.status == 201);
  CHECK(parse(other.body)["id"].GetInt() != id);

  const auto links = simulator.remoteLinks("SOC-1");
  REQUIRE(links.size() == 2);
  CHECK(links[0].id == id);
  CHECK(links[0].global_id == url);
  CHECK(links[0].url == url);
  CHECK(links[0].title == "PR #12: Sign-in with SSO (merged)");
  CHECK(links[0].relationship == "mentioned in");
  CHECK(links[0].updates == 1);
  CHECK(links[1].title == "Release v1.0.0");

  auto listed = http.Get("/rest/api/2/issue/SOC-1/remotelink");
  REQUIRE(listed);
  CHECK(listed->status == 200);
  auto array = parse(listed->body);
  REQUIRE(array.Size() == 2);
  CHECK(stringAt(array, "/0/globalId") == url);
  CHECK(stringAt(array, "/0/object/title") == "PR #12: Sign-in with SSO (merged)");
  CHECK(stringAt(array, "/0/object/icon/url16x16") == "https://github.com/favicon.ico");
  CHECK(stringAt(array, "/0/application/name") == "GitHub");
  httplib::Params query{{"globalId", url}};
  auto one = http.Get("/rest/api/2/issue/SOC-1/remotelink", query, httplib::Headers());
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(parse(one->body)["id"].GetInt() == id);
  httplib::Params absent{{"globalId", "nothing"}};
  auto none = http.Get("/rest/api/2/issue/SOC-1/remotelink", absent, httplib::Headers());
  REQUIRE(none);
  CHECK(none->status == 404);

  // Without a globalId, each POST adds a link.
  const std::string anonymous = R"({"object":{"url":"https://example.test/a","title":"A"}})";
  for (int i = 0; i < 2; ++i) {
    auto response = http.Post("/rest/api/2/issue/SOC-1/remotelink", anonymous, "application/json");
    REQUIRE(response);
    CHECK(response->status == 201);
  }
  CHECK(simulator.remoteLinks("SOC-1").size() == 4);
  for (const char* bad : {R"({"globalId":"x","object":{"title":"no url"}})",
                          R"({"globalId":"x","object":{"url":"https://example.test"}})",
                          R"({"globalId":"x"})", "["}) {
    auto refused = http.Post("/rest/api/2/issue/SOC-1/remotelink", bad, "application/json");
    REQUIRE(refused);
    CHECK(refused->status == 400);
  }
  auto missing = http.Post("/rest/api/2/issue/OTHER-1/remotelink", anonymous, "application/json");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(simulator.remoteLinks("SOC-1").size() == 4);
}

namespace {

// One of the new calls, and how to tell whether it changed anything.
struct Call {
  std::string method;
  std::string path;
  std::string body;
  std::function<size_t(const JiraSimulator&)> changes;  // what it adds, counted
  // Once a dropped answer's change is made: a version made again is a duplicate, and a link
  // posted again with its globalId is updated.
  int served_status = 200;
};

std::vector<Call> newCalls() {
  return {
      {"GET", "/rest/api/2/project/SOC/versions", "", nullptr},
      {"POST", "/rest/api/2/version", R"({"name":"v1.0.0","project":"SOC"})",
       [](const JiraSimulator& s) { return s.versions("SOC").size(); }, 400},
      {"PUT", "/rest/api/2/issue/SOC-1", R"({"update":{"fixVersions":[{"add":{"name":"v0"}}]}})",
       [](const JiraSimulator& s) { return s.fixVersions("SOC-1").size(); }, 204},
      {"POST", "/rest/api/2/issue/SOC-1/worklog", R"({"timeSpentSeconds":60})",
       [](const JiraSimulator& s) { return s.worklogs("SOC-1").size(); }, 201},
      {"GET", "/rest/api/2/issue/SOC-1/worklog", "", nullptr},
      {"POST", "/rest/api/2/issue/SOC-1/remotelink",
       R"({"globalId":"g","object":{"url":"https://example.test","title":"t"}})",
       [](const JiraSimulator& s) { return s.remoteLinks("SOC-1").size(); }},
      {"GET", "/rest/api/2/issue/SOC-1/remotelink", "", nullptr},
  };
}

httplib::Result send(httplib::Client& http, const Call& call) {
  if (call.method == "GET") return http.Get(call.path);
  if (call.method == "PUT") return http.Put(call.path, call.body, "application/json");
  return http.Post(call.path, call.body, "application/json");
}

}  // namespace

TEST_CASE("failNext, hangNext and dropAnswerNext hit each new call") {
  for (const auto& call : newCalls()) {
    CAPTURE(call.method);
    CAPTURE(call.path);
    JiraSimulator simulator(testOptions());
    simulator.start();
    simulator.addVersion("SOC", "v0");
    auto http = client(simulator);
    const size_t before = call.changes ? call.changes(simulator) : 0;

    simulator.failNext(call.method, call.path, 429, 1, 7);
    auto limited = send(http, call);
    REQUIRE(limited);
    CHECK(limited->status == 429);
    CHECK(limited->get_header_value("Retry-After") == "7");
    simulator.failNext(call.method, call.path, 503);
    auto unavailable = send(http, call);
    REQUIRE(unavailable);
    CHECK(unavailable->status == 503);
    simulator.hangNext(call.method, call.path, std::chrono::milliseconds(50));
    auto hung = send(http, call);
    REQUIRE(hung);
    CHECK(hung->status == 500);
    if (call.changes) CHECK(call.changes(simulator) == before);

    simulator.dropAnswerNext(call.method, call.path);
    CHECK_FALSE(send(http, call));
    if (call.changes) CHECK(call.changes(simulator) == before + 1);
    auto served = send(http, call);  // the fault is spent
    REQUIRE(served);
    CHECK(served->status == call.served_status);
    const auto faults = simulator.faultCounts();
    CHECK(faults.rate_limited == 1);
    CHECK(faults.server_error == 1);
    CHECK(faults.timeout == 1);
    CHECK(faults.dropped == 1);
  }
}

TEST_CASE("threads creating one version and adding it at once make one, added once") {
  SimulatorOptions options = testOptions();
  options.threads = 16;
  JiraSimulator simulator(options);
  simulator.start();
  constexpr int kThreads = 16;
  std::vector<std::future<std::pair<int, int>>> answers;
  for (int i = 0; i < kThreads; ++i) {
    answers.push_back(std::async(std::launch::async, [&simulator, i] {
      auto http = client(simulator);
      auto created = http.Post("/rest/api/2/version", R"({"name":"v1.0.0","project":"SOC"})",
                               "application/json");
      auto added =
          http.Put("/rest/api/2/issue/SOC-" + std::to_string(1 + i % 4),
                   R"({"update":{"fixVersions":[{"add":{"name":"v1.0.0"}}]}})", "application/json");
      return std::make_pair(created ? created->status : -1, added ? added->status : -1);
    }));
  }
  int created = 0;
  for (auto& answer : answers) {
    const auto [create_status, add_status] = answer.get();
    CHECK((create_status == 201 || create_status == 400));
    created += create_status == 201 ? 1 : 0;
    // A PUT that came before the version was made is refused, as Jira would.
    CHECK((add_status == 204 || add_status == 400));
  }
  CHECK(created == 1);
  CHECK(simulator.versions("SOC").size() == 1);
  for (int i = 1; i <= 4; ++i)
    CHECK(simulator.fixVersions("SOC-" + std::to_string(i)).size() <= 1);
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

TEST_CASE("GET /_sim/issues shows fix versions, worklogs, links, comments and versions") {
  JiraSimulator simulator(testOptions());
  simulator.start();
  simulator.addVersion("SOC", "v1.0.0", true, "2026-12-05");
  auto http = client(simulator);
  REQUIRE(http.Put(kIssuePath, R"({"update":{"fixVersions":[{"add":{"name":"v1.0.0"}}]}})",
                   "application/json"));
  REQUIRE(http.Post("/rest/api/2/issue/SOC-1/worklog",
                    R"({"timeSpentSeconds":3600,"comment":"Fixed the login page"})",
                    "application/json"));
  REQUIRE(http.Post("/rest/api/2/issue/SOC-1/remotelink",
                    R"({"globalId":"https://example.test/pr/1",)"
                    R"("object":{"url":"https://example.test/pr/1","title":"PR #1"}})",
                    "application/json"));
  REQUIRE(http.Post("/rest/api/2/issue/SOC-1/comment", R"({"body":"hi"})", "application/json"));

  auto response = http.Get("/_sim/issues");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body.find("\n  \"issues\"") != std::string::npos);  // indented for people
  auto state = parse(response->body);
  REQUIRE(state["issues"].Size() == 1);
  CHECK(stringAt(state, "/issues/0/key") == "SOC-1");
  CHECK(stringAt(state, "/issues/0/status") == "To Do");
  CHECK(stringAt(state, "/issues/0/fixVersions/0") == "v1.0.0");
  CHECK(state["issues"][0]["worklogs"][0]["timeSpentSeconds"].GetInt() == 3600);
  CHECK(stringAt(state, "/issues/0/worklogs/0/timeSpent") == "1h");
  CHECK(stringAt(state, "/issues/0/worklogs/0/comment") == "Fixed the login page");
  CHECK(stringAt(state, "/issues/0/worklogs/0/author") == "dev@example.test");
  CHECK(stringAt(state, "/issues/0/remoteLinks/0/globalId") == "https://example.test/pr/1");
  CHECK(stringAt(state, "/issues/0/remoteLinks/0/url") == "https://example.test/pr/1");
  CHECK(stringAt(state, "/issues/0/remoteLinks/0/title") == "PR #1");
  CHECK(stringAt(state, "/issues/0/comments/0") == "hi");
  CHECK(stringAt(state, "/versions/SOC/0/name") == "v1.0.0");
  CHECK(stringAt(state, "/versions/SOC/0/releaseDate") == "2026-12-05");
  CHECK(state["requests"].GetInt() == 4);

  // The first name of the route answers the same.
  auto alias = http.Get("/simulator/issues");
  REQUIRE(alias);
  CHECK(alias->body == response->body);
  httplib::Client anonymous(simulator.url());
  auto refused = anonymous.Get("/_sim/issues");
  REQUIRE(refused);
  CHECK(refused->status == 401);

  auto reset = http.Post("/_sim/reset", "", "application/json");
  REQUIRE(reset);
  CHECK(reset->status == 204);
  CHECK(simulator.versions("SOC").empty());
  CHECK(parse(http.Get("/_sim/issues")->body)["issues"].Empty());
}
