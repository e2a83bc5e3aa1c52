#include "app/check_command.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "app/cli.hpp"
#include "app/workflow_config.hpp"

namespace conduit::app {

int check(const CheckOptions& options) {
  auto load = loadWorkflowConfig(options.hcl_dir, options.workers_file);
  if (!load.errors.empty()) {
    for (const auto& error : load.errors)
      fmt::print(stderr, "{}\n", error);
    fmt::print(stderr, "conduit check: {} error{}\n", load.errors.size(),
               load.errors.size() == 1 ? "" : "s");
    return kExitFailure;
  }
  for (const auto& machine : load.config.machines.all()) {
    auto events = machine.events();
    fmt::print("{} ({}): {} states, {} events ({}), initial {}\n", machine.name(), machine.file(),
               machine.states().size(), events.size(), fmt::join(events, ", "), machine.initial());
  }
  return kExitOk;
}

int next(const NextOptions& options) {
  auto load = loadWorkflowConfig(options.hcl_dir, std::nullopt);
  if (!load.errors.empty()) {
    for (const auto& error : load.errors)
      fmt::print(stderr, "{}\n", error);
    return kExitFailure;
  }
  auto answer = load.config.machines.next(options.project, options.status, options.event);
  if (!answer.next) {
    fmt::print(stderr, "conduit next: {}\n", answer.error);
    return kExitFailure;
  }
  fmt::print("{}\n", answer.next->end ? std::string(statemachine::kEndState)
                                      : std::string(answer.next->status));
  return kExitOk;
}

}  // namespace conduit::app
