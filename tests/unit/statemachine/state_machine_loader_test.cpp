#include "statemachine/state_machine_loader.hpp"

#include <doctest/doctest.h>

#include "process.hpp"

using conduit::statemachine::loadStateMachines;
using conduit::statemachine::StateFile;

namespace {

std::vector<std::string> errorsOf(const std::string& text) {
  return loadStateMachines({{"m.hcl", text}}).errors;
}

// A valid provisioner, to break one thing at a time.
std::string provisioner(const std::string& name = "soc",
                        const std::string& aliases = "to_do: \"To Do\", done: \"Done\"",
                        const std::string& machine =
                            "initial = \"to_do\"\n"
                            "    state \"to_do\" \"next\" { transition = \"done\" }\n"
                            "    state \"done\" \"next\" { transition = \"<end>\" }") {
  return "provisioner \"" + name + "\" {\n  aliasmapper \"" + name + "\" {\n    aliases = { " +
         aliases + " }\n  }\n  statemachine \"" + name + "\" {\n    " + machine + "\n  }\n}\n";
}

bool has(const std::vector<std::string>& errors, const std::string& expected) {
  for (const auto& e : errors) {
    if (e == expected) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("loader: the original's jira.hcl loads unchanged") {
  auto result = loadStateMachines(
      {{"jira.hcl", conduit::testing::readFile(CONDUIT_CONFIG_DIR "/statemachines/jira.hcl")}});
  REQUIRE(result.errors.empty());
  REQUIRE(result.machines.all().size() == 2);
  const auto* soc = result.machines.find("SOC");
  REQUIRE(soc != nullptr);
  CHECK(soc->initial() == "to_do");
  CHECK(soc->states().size() == 3);
  CHECK(soc->events() == std::vector<std::string>{"next", "prev"});
  CHECK(result.machines.find("DevHop") != nullptr);
}

TEST_CASE("loader: the documentation's devops example with an in_qa column") {
  auto result =
      loadStateMachines({{"devops.hcl", conduit::testing::readFile(CONDUIT_EXAMPLES_DIR
                                                                   "/statemachines/devops.hcl")}});
  REQUIRE(result.errors.empty());
  const auto* devops = result.machines.find("DEVOPS");
  REQUIRE(devops != nullptr);
  auto qa = devops->next("In Progress", "next");
  REQUIRE(qa.next);
  CHECK(qa.next->status == "In QA");
  auto back = devops->next("in qa", "reject");
  REQUIRE(back.next);
  CHECK(back.next->state_id == "in_progress");
}

TEST_CASE("loader: a top-level statemachine binds to the provisioner of the same name") {
  auto result = loadStateMachines({{"m.hcl", R"(provisioner "ops" {
  aliasmapper "ops" {
    aliases = { open: "Open", closed: "Closed" }
  }
}
statemachine "ops" {
  initial = "open"
  state "open" "next" { transition = "closed" }
  state "closed" "next" { transition = "<end>" }
}
)"}});
  REQUIRE(result.errors.empty());
  CHECK(result.machines.next("OPS", "open", "next").next->status == "Closed");

  CHECK(has(errorsOf("statemachine \"ghost\" {\n  initial = \"a\"\n}\n"),
            "m.hcl:1:14: statemachine \"ghost\" has no provisioner \"ghost\" in this file"));
}

TEST_CASE("loader: labels must equal their provisioner's name") {
  auto errors = errorsOf(R"(provisioner "soc" {
  aliasmapper "sco" {
    aliases = { a: "A" }
  }
  statemachine "soc" {
    initial = "a"
  }
}
)");
  CHECK(has(errors,
            "m.hcl:2:15: the aliasmapper is labelled \"sco\" but belongs to provisioner "
            "\"soc\": the labels must be equal"));
}

TEST_CASE("loader: initial must be set and aliased") {
  CHECK(has(errorsOf(provisioner("soc", "to_do: \"To Do\"", "")),
            "m.hcl:5:3: the statemachine of \"soc\" has no `initial` state"));
  CHECK(has(errorsOf(provisioner("soc", "to_do: \"To Do\"", "initial = \"ghost\"")),
            "m.hcl:6:15: the initial state `ghost` has no alias in the aliasmapper"));
  CHECK(has(errorsOf(provisioner("soc", "to_do: \"To Do\"", "initial = 3")),
            "m.hcl:6:15: `initial` must be a string, not a number"));
}

TEST_CASE("loader: every state used needs an alias - every target a state block or <end>") {
  auto errors = errorsOf(
      provisioner("soc", "to_do: \"To Do\"",
                  "initial = \"to_do\"\n    state \"to_do\" \"next\" { transition = \"review\" }\n"
                  "    state \"review\" \"next\" { transition = \"nowhere\" }"));
  CHECK(has(errors, "m.hcl:8:11: state `review` has no alias in the aliasmapper"));
  CHECK(has(errors,
            "m.hcl:8:42: the transition target `nowhere` is not declared by a `state` "
            "block of this machine (nor is it `<end>`)"));
  CHECK(errors.size() == 2);  // all reported at once
}

TEST_CASE("loader: every (state - event) conflict is listed") {
  auto errors = errorsOf(
      provisioner("soc", "to_do: \"To Do\", done: \"Done\"",
                  "initial = \"to_do\"\n    state \"to_do\" \"next\" { transition = \"done\" }\n"
                  "    state \"to_do\" \"next\" { transition = \"to_do\" }\n"
                  "    state \"done\" \"next\" { transition = \"<end>\" }\n"
                  "    state \"done\" \"next\" { transition = \"to_do\" }"));
  CHECK(has(errors,
            "m.hcl:8:5: state \"to_do\" \"next\" conflicts with the one at line 7: one "
            "state cannot have the same event twice"));
  CHECK(has(errors,
            "m.hcl:10:5: state \"done\" \"next\" conflicts with the one at line 9: one "
            "state cannot have the same event twice"));
}

TEST_CASE("loader: duplicate names across files ignoring case - duplicate statuses") {
  auto result = loadStateMachines({{"a.hcl", provisioner("soc")}, {"b.hcl", provisioner("SOC")}});
  CHECK(has(result.errors,
            "b.hcl:1:1: provisioner \"SOC\" has the same name, ignoring case, as "
            "the one at a.hcl:1"));
  CHECK(has(errorsOf(provisioner("soc", "to_do: \"To Do\", done: \" to do \"")),
            "m.hcl:3:39: states `to_do` and `done` are both aliased to \" to do \" (ignoring case "
            "and spaces): a Jira status must name one state"));
  CHECK(has(errorsOf(provisioner("soc", "to_do: \"To Do\", to_do: \"Done\"")),
            "m.hcl:3:33: state `to_do` is aliased twice (first at line 3)"));
}

TEST_CASE("loader: a provisioner name must be able to be a Jira project key") {
  CHECK(has(errorsOf(provisioner("dev-ops")),
            "m.hcl:1:1: provisioner \"dev-ops\" cannot be a Jira project key: Jira project keys "
            "never contain `-` (the dash separates the key from the issue number, as in SOC-12); "
            "use `_`"));
  CHECK(has(errorsOf(provisioner("2fa")),
            "m.hcl:1:1: provisioner \"2fa\" cannot be a Jira project key: it must start with a "
            "letter, not `2`"));
  CHECK(has(errorsOf(provisioner("x")),
            "m.hcl:1:1: provisioner \"x\" cannot be a Jira project key: Jira project keys have at "
            "least two characters"));
  CHECK(errorsOf(provisioner("dev_ops")).empty());
  CHECK(errorsOf(provisioner("ab2")).empty());
}

TEST_CASE("loader: unknown attributes and blocks are errors - so typos never pass") {
  auto errors = errorsOf(R"(provisioner "soc" {
  owner = "me"
  aliasmapper "soc" {
    aliases = { to_do: "To Do" }
    alias = { x: "X" }
  }
  statemachine "soc" {
    intial = "to_do"
    initial = "to_do"
    state "to_do" "next" {
      transiton = "to_do"
    }
    stat "to_do" "prev" { transition = "to_do" }
  }
  notes "x" {}
}
workflow "soc" {}
)");
  CHECK(has(errors,
            "m.hcl:2:3: unknown attribute `owner` in provisioner (expected aliasmapper and "
            "statemachine blocks)"));
  CHECK(has(errors, "m.hcl:5:5: unknown attribute `alias` in aliasmapper (expected `aliases`)"));
  CHECK(has(errors,
            "m.hcl:8:5: unknown attribute `intial` in statemachine (expected `initial` "
            "and `state` blocks)"));
  CHECK(has(errors, "m.hcl:11:7: unknown attribute `transiton` in state (expected `transition`)"));
  CHECK(has(errors, "m.hcl:13:5: unknown block `stat` in statemachine (expected `state`)"));
  CHECK(has(errors,
            "m.hcl:15:3: unknown block `notes` in provisioner (expected aliasmapper and "
            "statemachine)"));
  CHECK(has(errors, "m.hcl:17:1: unknown block `workflow` (expected `provisioner`)"));
}

TEST_CASE("loader: one mistake does not hide the others - nor cascade into false ones") {
  // A bad name, a typo for `aliases`, a bad initial and a typo in a state: all four reported.
  auto errors = errorsOf(R"(provisioner "dev-ops" {
  aliasmapper "dev-ops" {
    alias = { to_do: "To Do" }
  }
  statemachine "dev-ops" {
    initial = 7
    state "to_do" "next" { transiton = "x" }
  }
}
)");
  CHECK(has(errors,
            "m.hcl:1:1: provisioner \"dev-ops\" cannot be a Jira project key: Jira project "
            "keys never contain `-` (the dash separates the key from the issue number, as "
            "in SOC-12); use `_`"));
  CHECK(has(errors, "m.hcl:3:5: unknown attribute `alias` in aliasmapper (expected `aliases`)"));
  CHECK(has(errors, "m.hcl:2:3: the aliasmapper has no `aliases`"));
  CHECK(has(errors, "m.hcl:6:15: `initial` must be a string, not a number"));
  CHECK(has(errors, "m.hcl:7:28: unknown attribute `transiton` in state (expected `transition`)"));
  CHECK(has(errors, "m.hcl:7:5: state \"to_do\" \"next\" has no `transition`"));
  CHECK(errors.size() == 6);  // and nothing about aliases that could not be read

  // A non-string alias is one error, not three.
  auto typed = errorsOf(provisioner("soc", "to_do: \"To Do\", done: 5"));
  CHECK(typed ==
        std::vector<std::string>{"m.hcl:3:39: the alias of `done` must be a string, not a number"});
}

TEST_CASE("loader: a top-level statemachine finds its provisioner in any case") {
  auto errors = errorsOf(R"(provisioner "soc" {
  aliasmapper "soc" {
    aliases = { a: "A" }
  }
}
statemachine "SOC" {
  initial = "a"
}
)");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "m.hcl:6:14: the statemachine is labelled \"SOC\" but belongs to provisioner "
        "\"soc\": the labels must be equal");
}

TEST_CASE("loader: a name with a non-ASCII letter is refused in plain words") {
  CHECK(has(errorsOf(provisioner("s\xc3\xb3"
                                 "c")),
            "m.hcl:1:1: provisioner \"s\xc3\xb3"
            "c\" cannot be a Jira project key: Jira project keys "
            "are ASCII: letters A to Z, digits and `_`"));
}

TEST_CASE("loader: a syntax error stops its file - other files still load") {
  auto result = loadStateMachines(
      {{"bad.hcl", "provisioner \"x\" {\n  a = $\n}\n"}, {"good.hcl", provisioner("soc")}});
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0] == "bad.hcl:2:7: expected a value, found `$`");
  CHECK(result.machines.find("soc") != nullptr);
}
