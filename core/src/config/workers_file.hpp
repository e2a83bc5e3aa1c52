#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace conduit::config {

// One entry of workers.yaml: a worker, its plugin, the state file its projects' machines are in,
// and the projects it serves. Keys other than these (`triggers`, `comment`, ...) belong to the
// worker's plugin: the whole entry is kept, as JSON, for it.
struct WorkerEntry {
  std::string name;
  std::string statefile;              // a file name in the state machine folder: jira.hcl
  std::vector<std::string> projects;  // Jira project keys, any case
  std::string plugin;                 // the plugin's name: see pluginFor()
  std::string settings_json;          // the whole entry as a JSON object, for the plugin
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

// The plugin of a worker: its `plugin` key; without one, the worker's own name, except that
// `atlassian` (the original's name for its Jira worker) means `jira`.
std::string pluginFor(std::string_view worker_name, std::string_view plugin_key);

// Parses `workers: <name>: {statefile: ..., projects: [...], plugin: ...}` (the original's
// format). Throws ConfigError with file:line:column for malformed YAML or a missing or ill-typed
// key.
WorkersFile parseWorkersFile(std::string_view text, const std::string& file_name);

}  // namespace conduit::config
