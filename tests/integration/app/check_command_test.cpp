#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "process.hpp"

using conduit::testing::Process;
using conduit::testing::runToEnd;

namespace fs = std::filesystem;

namespace {

const std::string kConduit = CONDUIT_BINARY;
const std::string kConfig = CONDUIT_CONFIG_DIR;

// A scratch folder with a statemachines/ folder and a workers.yaml.
struct Workspace {
  Workspace() {
    root = fs::temp_directory_path() /
           ("conduit-check-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(root / "statemachines");
  }
  ~Workspace() {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(root / name) << text;
  }
  std::string path(const std::string& name) const { return (root / name).string(); }

  fs::path root;
  static inline int counter = 0;
};

}  // namespace

TEST_CASE("check: the shipped configuration passes - one line per provisioner") {
  std::string out, err;
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", kConfig + "/statemachines", "--worker-cfg",
                  kConfig + "/workers.yaml"},
                 &out, &err) == 0);
  CHECK(out.find("soc (" + kConfig +
                 "/statemachines/jira.hcl): 3 states, 2 events (next, prev), "
                 "initial to_do\n") != std::string::npos);
  CHECK(out.find("devhop (") != std::string::npos);
  CHECK(err.empty());
}

TEST_CASE("check: the defaults are ./config/statemachines and ./config/workers.yaml") {
  Process check({kConduit, "check"}, {}, fs::path(kConfig).parent_path().string());
  CHECK(check.wait() == 0);
  CHECK(check.standardOutput().find("soc (config/statemachines/jira.hcl)") != std::string::npos);
}

TEST_CASE("check: every error - in state files and in workers.yaml - and exit 1") {
  Workspace w;
  w.write("statemachines/a.hcl", R"(provisioner "soc" {
  aliasmapper "soc" {
    aliases = { to_do: "To Do" }
  }
  statemachine "soc" {
    initial = "nope"
  }
}
)");
  w.write("statemachines/b.hcl", "provisioner \"x\" {\n  a = ${b}\n}\n");
  w.write("workers.yaml",
          "workers:\n  atlassian:\n    statefile: a.hcl\n    projects:\n      - SOC\n      - "
          "ghost\n  other:\n    statefile: missing.hcl\n    projects: [soc]\n");
  std::string out, err;
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", w.path("statemachines"), "--worker-cfg",
                  w.path("workers.yaml")},
                 &out, &err) == 1);
  CHECK(err.find(w.path("statemachines/a.hcl") +
                 ":6:15: the initial state `nope` has no alias in the aliasmapper") !=
        std::string::npos);
  CHECK(err.find(w.path("statemachines/b.hcl") +
                 ":2:7: interpolation (`${...}`) is not supported in state files") !=
        std::string::npos);
  CHECK(err.find(w.path("workers.yaml") +
                 ":6:9: worker `atlassian`: project `ghost` is not a provisioner of a.hcl") !=
        std::string::npos);
  CHECK(err.find(w.path("workers.yaml") + ":8:16: worker `other`: statefile `missing.hcl` is not a "
                                          ".hcl file of the state machine folder") !=
        std::string::npos);
  CHECK(err.find("conduit check: 4 errors") != std::string::npos);
}

TEST_CASE("check: a trigger whose event no state machine of the worker's projects has") {
  Workspace w;
  w.write("statemachines/jira.hcl",
          conduit::testing::readFile(kConfig + "/statemachines/jira.hcl"));
  // soc has the events next and prev, devhop only next: prev is fine for the worker.
  w.write("workers.yaml",
          "workers:\n  atlassian:\n    statefile: jira.hcl\n    projects: [soc, devhop]\n"
          "    triggers:\n      pull_request.merged: nxt\n      release.published: next\n"
          "      push: prev\n");
  std::string out, err;
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", w.path("statemachines"), "--worker-cfg",
                  w.path("workers.yaml")},
                 &out, &err) == 1);
  CHECK(err == w.path("workers.yaml") +
                   ":6:28: worker `atlassian`: trigger `pull_request.merged: nxt`: no state "
                   "machine of its projects (SOC, DEVHOP) has the event `nxt`; their events: "
                   "next, prev\nconduit check: 1 error\n");

  // Only devhop's machine: prev is now unknown too.
  w.write("workers.yaml",
          "workers:\n  atlassian:\n    statefile: jira.hcl\n    projects: [devhop]\n"
          "    triggers: {push: prev, release.published: next}\n");
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", w.path("statemachines"), "--worker-cfg",
                  w.path("workers.yaml")},
                 &out, &err) == 1);
  CHECK(err.find(":5:22: worker `atlassian`: trigger `push: prev`: no state machine of its "
                 "projects (DEVHOP) has the event `prev`; their events: next\n") !=
        std::string::npos);

  w.write("workers.yaml",
          "workers:\n  atlassian:\n    statefile: jira.hcl\n    projects: [soc]\n"
          "    triggers: {push: prev, release.published: next}\n");
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", w.path("statemachines"), "--worker-cfg",
                  w.path("workers.yaml")},
                 &out, &err) == 0);
}

TEST_CASE(
    "check: a statefile with a syntax error - or named twice - gives no false project error") {
  Workspace w;
  const std::string valid = conduit::testing::readFile(kConfig + "/statemachines/jira.hcl");
  w.write("statemachines/jira.hcl", valid);
  w.write("statemachines/copy.hcl", valid);  // the same provisioners again
  w.write("statemachines/broken.hcl", "provisioner \"ops\" {\n  initial = to_do\n}\n");
  w.write("workers.yaml",
          "workers:\n  a:\n    statefile: jira.hcl\n    projects: [soc]\n"
          "  b:\n    statefile: broken.hcl\n    projects: [ops]\n");
  std::string err;
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", w.path("statemachines"), "--worker-cfg",
                  w.path("workers.yaml")},
                 nullptr, &err) == 1);
  CHECK(err.find("is not a provisioner") == std::string::npos);
  CHECK(err.find("broken.hcl:2:13: variables and references (`to_do`)") != std::string::npos);
  CHECK(err.find("has the same name, ignoring case, as the one at") != std::string::npos);
}

TEST_CASE("check: a folder named .hcl or a folder given as the workers file is named") {
  Workspace w;
  w.write("statemachines/jira.hcl",
          conduit::testing::readFile(kConfig + "/statemachines/jira.hcl"));
  fs::create_directories(w.root / "statemachines" / "odd.hcl");
  std::string err;
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", w.path("statemachines"), "--worker-cfg",
                  w.path("statemachines")},
                 nullptr, &err) == 1);
  CHECK(err.find(w.path("statemachines/odd.hcl") + ": cannot read: not a regular file") !=
        std::string::npos);
  CHECK(err.find(w.path("statemachines") + ": cannot read: not a regular file") !=
        std::string::npos);
}

TEST_CASE("check: a folder or file that cannot be read is named") {
  Workspace w;
  std::string err;
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", w.path("absent"), "--worker-cfg",
                  w.path("absent.yaml")},
                 nullptr, &err) == 1);
  CHECK(err.find(w.path("absent") + ": cannot read the state machine folder") != std::string::npos);
  CHECK(runToEnd({kConduit, "check", "--hcl-dir", kConfig + "/statemachines", "--worker-cfg",
                  w.path("absent.yaml")},
                 nullptr, &err) == 1);
  CHECK(err.find(w.path("absent.yaml") + ": cannot read: No such file or directory") !=
        std::string::npos);
  CHECK(runToEnd({kConduit, "check", "--hcl-dirr", "x"}, nullptr, &err) == 2);
}

TEST_CASE("next: prints the target status alone on its last line - or <end>") {
  const std::string dir = kConfig + "/statemachines";
  std::string out, err;
  CHECK(runToEnd({kConduit, "next", "--hcl-dir", dir, "--project", "SOC", "--status", "to do"},
                 &out) == 0);
  CHECK(out == "In Progress\n");
  CHECK(runToEnd({kConduit, "next", "--hcl-dir", dir, "--project", "soc", "--status", "In Progress",
                  "--event", "prev"},
                 &out) == 0);
  CHECK(out == "To Do\n");
  CHECK(runToEnd({kConduit, "next", "--hcl-dir", dir, "--project", "devhop", "--status", "Done"},
                 &out) == 0);
  CHECK(out == "<end>\n");
}

TEST_CASE("next: an unknown project - status or event exits 1 with the reason") {
  const std::string dir = kConfig + "/statemachines";
  std::string err;
  CHECK(runToEnd({kConduit, "next", "--hcl-dir", dir, "--project", "NOPE", "--status", "Done"},
                 nullptr, &err) == 1);
  CHECK(err == "conduit next: no provisioner is named NOPE\n");
  CHECK(runToEnd({kConduit, "next", "--hcl-dir", dir, "--project", "soc", "--status", "Blocked"},
                 nullptr, &err) == 1);
  CHECK(err.find("the status \"Blocked\" has no alias") != std::string::npos);
  CHECK(runToEnd({kConduit, "next", "--hcl-dir", dir, "--project", "devhop", "--status",
                  "In Progress", "--event", "prev"},
                 nullptr, &err) == 1);
  CHECK(err.find("has no event `prev`") != std::string::npos);
  CHECK(runToEnd({kConduit, "next", "--hcl-dir", dir, "--status", "Done"}, nullptr, &err) == 2);
  CHECK(err.find("next: --project is required") != std::string::npos);
}
