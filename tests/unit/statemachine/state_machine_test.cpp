#include "statemachine/state_machine.hpp"

#include <doctest/doctest.h>

#include "statemachine/state_machine_loader.hpp"

using conduit::statemachine::loadStateMachines;
using conduit::statemachine::StateMachines;

namespace {

StateMachines machines() {
  auto result = loadStateMachines({{"m.hcl", R"(provisioner "DEV_OPS" {
  aliasmapper "DEV_OPS" {
    aliases = { to_do: "To Do", in_progress: "In Progress", in_qa: "In QA", done: "Done" }
  }
  statemachine "DEV_OPS" {
    initial = "to_do"
    state "to_do" "next" { transition = "in_progress" }
    state "in_progress" "next" { transition = "in_qa" }
    state "in_progress" "prev" { transition = "to_do" }
    state "in_qa" "next" { transition = "done" }
    state "in_qa" "reject" { transition = "in_progress" }
    state "done" "next" { transition = "<end>" }
  }
}
provisioner "ab2" {
  aliasmapper "ab2" {
    aliases = { open: "Open", closed: "Closed", limbo: "Limbo" }
  }
  statemachine "ab2" {
    initial = "open"
    state "open" "next" { transition = "closed" }
    state "closed" "next" { transition = "<end>" }
  }
}
)"}});
  REQUIRE(result.errors.empty());
  return std::move(result.machines);
}

}  // namespace

TEST_CASE("next: project keys in any case - statuses ignoring case and surrounding spaces") {
  auto all = machines();
  for (const char* project : {"DEV_OPS", "dev_ops", "Dev_Ops"}) {
    auto answer = all.next(project, "  in progress ", "next");
    REQUIRE(answer.next);
    CHECK(answer.next->state_id == "in_qa");
    CHECK(answer.next->status == "In QA");
    CHECK_FALSE(answer.next->end);
  }
  CHECK(all.next("AB2", "OPEN", "next").next->status == "Closed");
}

TEST_CASE("next: <end> - and the errors for an unknown project - status or event") {
  auto all = machines();
  auto end = all.next("DEV_OPS", "Done", "next");
  REQUIRE(end.next);
  CHECK(end.next->end);

  auto project = all.next("NOPE", "Done", "next");
  CHECK_FALSE(project.next);
  CHECK(project.error == "no provisioner is named NOPE");
  auto status = all.next("DEV_OPS", "Blocked", "next");
  CHECK(status.error ==
        "the status \"Blocked\" has no alias in the state machine of DEV_OPS (m.hcl)");
  auto event = all.next("DEV_OPS", "To Do", "reject");
  CHECK(event.error == "the state to_do (\"To Do\") of DEV_OPS has no event `reject`");
  // A state with an alias but no transitions at all.
  CHECK(all.next("AB2", "Limbo", "next").error ==
        "the state limbo (\"Limbo\") of ab2 has no event `next`");
}

TEST_CASE("path: the shortest sequence of events - empty when there - none when unreachable") {
  auto all = machines();
  const auto* devops = all.find("dev_ops");
  REQUIRE(devops != nullptr);
  CHECK(devops->path("To Do", "done") == std::vector<std::string>{"next", "next", "next"});
  CHECK(devops->path("In QA", "in_progress") == std::vector<std::string>{"reject"});
  CHECK(devops->path("in qa", "in_qa") == std::vector<std::string>{});
  CHECK(devops->path("Done", "to_do") == std::nullopt);
  CHECK(devops->path("Nope", "to_do") == std::nullopt);
  CHECK(devops->path("To Do", "nope") == std::nullopt);
  CHECK(all.find("ab2")->path("Open", "limbo") == std::nullopt);
}
