#include "app/workflow_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include "config/config_error.hpp"
#include "statemachine/state_machine_loader.hpp"

namespace conduit::app {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> readFile(const std::string& path, std::vector<std::string>& errors) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    errors.push_back(fmt::format("{}: cannot read: {}", path,
                                 error              ? error.message()
                                 : fs::exists(path) ? "not a regular file"
                                                    : "No such file or directory"));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    errors.push_back(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
    return std::nullopt;
  }
  return text.str();
}

std::string baseName(const std::string& path) {
  return fs::path(path).filename().string();
}

void checkWorkers(const config::WorkersFile& workers, const statemachine::LoadResult& machines,
                  const std::vector<std::string>& hcl_files, std::vector<std::string>& errors) {
  for (const auto& worker : workers.workers) {
    const bool known_file =
        std::any_of(hcl_files.begin(), hcl_files.end(),
                    [&](const std::string& file) { return baseName(file) == worker.statefile; });
    if (!known_file) {
      errors.push_back(
          fmt::format("{}:{}:{}: worker `{}`: statefile `{}` is not a .hcl file of "
                      "the state machine folder",
                      workers.file_name, worker.statefile_position.line,
                      worker.statefile_position.column, worker.name, worker.statefile));
      continue;
    }
    // A statefile with a syntax error declares nothing we know of: its error says enough.
    const bool unreadable =
        std::any_of(machines.unreadable_files.begin(), machines.unreadable_files.end(),
                    [&](const std::string& file) { return baseName(file) == worker.statefile; });
    if (unreadable) continue;
    for (size_t i = 0; i < worker.projects.size(); ++i) {
      auto [first, last] =
          machines.declared.equal_range(statemachine::projectKey(worker.projects[i]));
      const bool found = std::any_of(first, last, [&](const auto& entry) {
        return baseName(entry.second) == worker.statefile;
      });
      if (!found) {
        const auto& at = worker.project_positions[i];
        errors.push_back(
            fmt::format("{}:{}:{}: worker `{}`: project `{}` is not a provisioner of "
                        "{}",
                        workers.file_name, at.line, at.column, worker.name, worker.projects[i],
                        worker.statefile));
      }
    }
  }
}

// Where `workers.<worker>.triggers.<kind>` stands in the file, or the worker's own position.
config::WorkerEntry::Position triggerPosition(const YAML::Node& root,
                                              const config::WorkerEntry& worker,
                                              const std::string& kind) {
  try {
    const YAML::Node triggers = root["workers"][worker.name]["triggers"];
    if (triggers && triggers.IsMap()) {
      for (const auto& trigger : triggers) {
        if (trigger.first.IsScalar() && trigger.first.Scalar() == kind) {
          return {trigger.second.Mark().line + 1, trigger.second.Mark().column + 1};
        }
      }
    }
  } catch (const YAML::Exception&) {
    // The file parsed once already; should it not now, the worker's position still helps.
  }
  return worker.position;
}

// A worker's `triggers` (event kind -> state machine event) must name events that a state
// machine of its projects has: otherwise every delivery of that kind would be dead-lettered.
// The plugin reads the key; the host checks it here because it alone knows the machines, so
// that `conduit check` and a reload refuse what the plugin would fail on at each delivery.
void checkTriggers(const config::WorkersFile& workers, const statemachine::StateMachines& machines,
                   const std::string& text, std::vector<std::string>& errors) {
  std::optional<YAML::Node> root;
  for (const auto& worker : workers.workers) {
    rapidjson::Document entry;
    entry.Parse(worker.settings_json.data(), worker.settings_json.size());
    if (entry.HasParseError() || !entry.IsObject()) continue;
    auto triggers = entry.FindMember("triggers");
    // A `triggers` of another shape is for the plugin to refuse, in its own words.
    if (triggers == entry.MemberEnd() || !triggers->value.IsObject()) continue;

    std::set<std::string> events;
    std::vector<std::string> projects;
    for (const auto& project : worker.projects) {
      const statemachine::StateMachine* machine = machines.find(project);
      if (machine == nullptr) continue;  // already an error of its own
      projects.push_back(statemachine::projectKey(project));
      for (auto& event : machine->events())
        events.insert(std::move(event));
    }
    if (projects.empty()) continue;
    for (const auto& trigger : triggers->value.GetObject()) {
      if (!trigger.value.IsString()) continue;
      const std::string event = trigger.value.GetString();
      if (events.count(event) != 0) continue;
      if (!root) root = YAML::Load(text);
      const std::string kind = trigger.name.GetString();
      const auto at = triggerPosition(*root, worker, kind);
      errors.push_back(fmt::format(
          "{}:{}:{}: worker `{}`: trigger `{}: {}`: no state machine of its projects ({}) has "
          "the event `{}`; their events: {}",
          workers.file_name, at.line, at.column, worker.name, kind, event,
          fmt::join(projects, ", "), event,
          events.empty() ? std::string("none") : fmt::format("{}", fmt::join(events, ", "))));
    }
  }
}

}  // namespace

WorkflowLoad loadWorkflowConfig(const std::string& hcl_dir,
                                const std::optional<std::string>& workers_file) {
  WorkflowLoad load;
  std::vector<std::string> hcl_files;
  std::error_code error;
  for (fs::directory_iterator it(hcl_dir, error), end; !error && it != end; it.increment(error)) {
    if (it->path().extension() == ".hcl") hcl_files.push_back(it->path().string());
  }
  if (error) {
    load.errors.push_back(
        fmt::format("{}: cannot read the state machine folder: {}", hcl_dir, error.message()));
    return load;
  }
  if (hcl_files.empty()) {
    load.errors.push_back(fmt::format("{}: no .hcl files in the state machine folder", hcl_dir));
  }
  std::sort(hcl_files.begin(), hcl_files.end());

  std::vector<statemachine::StateFile> files;
  for (const auto& path : hcl_files) {
    if (auto text = readFile(path, load.errors)) files.push_back({path, std::move(*text)});
  }
  auto machines = statemachine::loadStateMachines(files);
  load.errors.insert(load.errors.end(), machines.errors.begin(), machines.errors.end());

  if (workers_file) {
    if (auto text = readFile(*workers_file, load.errors)) {
      try {
        load.config.workers = config::parseWorkersFile(*text, *workers_file);
        checkWorkers(*load.config.workers, machines, hcl_files, load.errors);
        checkTriggers(*load.config.workers, machines.machines, *text, load.errors);
      } catch (const config::ConfigError& e) {
        load.errors.push_back(e.what());
      }
    }
  }
  load.config.machines = std::move(machines.machines);
  return load;
}

}  // namespace conduit::app
