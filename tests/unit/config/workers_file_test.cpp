#include "config/workers_file.hpp"

#include <doctest/doctest.h>

#include "config/config_error.hpp"

using conduit::config::ConfigError;
using conduit::config::parseWorkersFile;

TEST_CASE("workers.yaml: the original's file - and keys kept for the plugin") {
  auto file = parseWorkersFile(R"(workers:
  atlassian:
    statefile: jira.hcl
    projects:
      - devhop
      - soc
    plugin: jira
    triggers:
      push: next
)",
                               "workers.yaml");
  REQUIRE(file.workers.size() == 1);
  const auto& worker = file.workers[0];
  CHECK(worker.name == "atlassian");
  CHECK(worker.statefile == "jira.hcl");
  CHECK(worker.projects == std::vector<std::string>{"devhop", "soc"});
  REQUIRE(worker.project_positions.size() == 2);
  CHECK(worker.project_positions[1].line == 6);
  CHECK(worker.project_positions[1].column == 9);
  CHECK(worker.statefile_position.line == 3);
  CHECK(worker.plugin == "jira");
  CHECK(worker.settings_json ==
        R"({"statefile":"jira.hcl","projects":["devhop","soc"],"plugin":"jira",)"
        R"("triggers":{"push":"next"}})");
}

TEST_CASE("workers.yaml: a worker's plugin - and its settings as typed JSON") {
  auto file = parseWorkersFile(R"(workers:
  atlassian:
    statefile: jira.hcl
    projects: [soc]
  releases:
    statefile: jira.hcl
    projects: [soc]
    comment: true
    retries: 3
    note: "true"
    extra: ~
)",
                               "workers.yaml");
  REQUIRE(file.workers.size() == 2);
  CHECK(file.workers[0].plugin == "jira");  // the original's name for its Jira worker
  CHECK(file.workers[1].plugin == "releases");
  CHECK(file.workers[1].settings_json ==
        R"({"statefile":"jira.hcl","projects":["soc"],"comment":true,"retries":3,"note":"true",)"
        R"("extra":null})");
  CHECK(conduit::config::pluginFor("atlassian", "custom") == "custom");
  CHECK_THROWS_WITH_AS(
      parseWorkersFile("workers:\n  a:\n    statefile: x.hcl\n    projects: [s]\n    plugin: [x]\n",
                       "w.yaml"),
      "w.yaml:5:13: worker `a`: `plugin` names a plugin", ConfigError);
}

TEST_CASE("workers.yaml: malformed files name file - line and column") {
  CHECK_THROWS_WITH_AS(parseWorkersFile("workers:\n  a: [\n", "w.yaml"),
                       doctest::Contains("w.yaml:3:1:"), ConfigError);
  CHECK_THROWS_WITH_AS(parseWorkersFile("other: 1\n", "w.yaml"),
                       "w.yaml:1:1: expected a `workers:` map of worker names", ConfigError);
  CHECK_THROWS_WITH_AS(parseWorkersFile("workers:\n  a:\n    projects: [soc]\n", "w.yaml"),
                       "w.yaml:2:3: worker `a` needs `statefile`, a file of the state machine "
                       "folder",
                       ConfigError);
  CHECK_THROWS_WITH_AS(parseWorkersFile("workers:\n  a:\n    statefile: x.hcl\n", "w.yaml"),
                       "w.yaml:2:3: worker `a` needs `projects`, a list of Jira project keys",
                       ConfigError);
  CHECK_THROWS_WITH_AS(
      parseWorkersFile("workers:\n  a:\n    statefile: x.hcl\n    projects: soc\n", "w.yaml"),
      doctest::Contains("w.yaml:4:15: worker `a` needs `projects`"), ConfigError);
  // A worker named by a list instead of text: an error, not an abort.
  CHECK_THROWS_WITH_AS(
      parseWorkersFile("workers:\n  ? [a, b]\n  : {statefile: jira.hcl, projects: [soc]}\n",
                       "w.yaml"),
      "w.yaml:2:5: a worker's name must be text", ConfigError);
  CHECK_THROWS_WITH_AS(
      parseWorkersFile("workers:\n  a:\n    statefile: [x]\n    projects: [s]\n", "w.yaml"),
      doctest::Contains("w.yaml:2:3: worker `a` needs `statefile`"), ConfigError);
}
