#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace conduit::config {

// One entry of workers.yaml: a worker, the state file its projects' machines are in, and the
// projects it serves. Keys other than `statefile` and `projects` (`plugin`, `triggers`, ...)
// belong to the worker's plugin: they are kept, as YAML text, for it.
struct WorkerEntry {
  std::string name;
  std::string statefile;              // a file name in the state machine folder: jira.hcl
  std::vector<std::string> projects;  // Jira project keys, any case
  std::string settings_yaml;          // the whole entry, for the plugin
  // Where things stand in the file (1-based), for messages.
  struct Position {
    int line = 0;
    int column = 0;
  };
  Position position;
  Position statefile_position;
  std::vector<Position> project_positions;
};

struct WorkersFile {
  std::string file_name;
  std::vector<WorkerEntry> workers;
};

// Parses `workers: <name>: {statefile: ..., projects: [...]}` (the original's format). Throws
// ConfigError with file:line:column for malformed YAML or a missing or ill-typed key.
WorkersFile parseWorkersFile(std::string_view text, const std::string& file_name);

}  // namespace conduit::config
