#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "statemachine/state_machine.hpp"

namespace conduit::statemachine {

// One state file's name (for messages) and its text.
struct StateFile {
  std::string name;
  std::string text;
};

struct LoadResult {
  StateMachines machines;  // the provisioners that passed every check
  // Every provisioner found, valid or not: its upper-case name and each file it is in. So that
  // a workers file naming a provisioner with errors is not told it does not exist.
  std::multimap<std::string, std::string> declared;
  // The files that could not be parsed at all: what they declare is unknown.
  std::set<std::string> unreadable_files;
  // Every problem, each `file:line:column: message`; empty when all is well. A syntax error
  // stops its own file; validation errors are all reported.
  std::vector<std::string> errors;
};

// Reads every provisioner of the given files (a folder's `.hcl` files) and checks them:
// labels equal to their provisioner's name, an aliased `initial`, aliases for every state used,
// transition targets declared by a `state` block or `<end>`, no (state, event) twice, names that
// are Jira project keys, unique names across the files ignoring case, unique status names per
// provisioner, and no unknown attribute or block. docs/statemachines.md describes the format.
LoadResult loadStateMachines(const std::vector<StateFile>& files);

}  // namespace conduit::statemachine
