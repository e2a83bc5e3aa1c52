#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/workers_file.hpp"
#include "statemachine/state_machine.hpp"

namespace conduit::app {

// The state machines of a folder and the workers file that names their projects, checked
// against each other: what `conduit check` validates and what workers run on.
struct WorkflowConfig {
  statemachine::StateMachines machines;
  std::optional<config::WorkersFile> workers;  // absent when no workers file was asked for
};

struct WorkflowLoad {
  WorkflowConfig config;
  std::vector<std::string> errors;  // every problem found; empty when all is well
};

// Reads every `.hcl` file of `hcl_dir` (in name order) and, when given, `workers_file`: each
// worker's statefile must be a file of the folder, and each of its projects a provisioner of
// that file. A folder or file that cannot be read is named in the errors.
WorkflowLoad loadWorkflowConfig(const std::string& hcl_dir,
                                const std::optional<std::string>& workers_file);

}  // namespace conduit::app
