#include "app/workflow_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

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
      } catch (const config::ConfigError& e) {
        load.errors.push_back(e.what());
      }
    }
  }
  load.config.machines = std::move(machines.machines);
  return load;
}

}  // namespace conduit::app
