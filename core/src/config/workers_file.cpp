#include "config/workers_file.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "config/config_error.hpp"

namespace conduit::config {
namespace {

[[noreturn]] void fail(const std::string& file, const YAML::Mark& mark, const std::string& what) {
  throw ConfigError(fmt::format("{}:{}:{}: {}", file, mark.line + 1, mark.column + 1, what));
}

WorkerEntry::Position positionOf(const YAML::Node& node) {
  return {node.Mark().line + 1, node.Mark().column + 1};
}

}  // namespace

namespace {

WorkersFile parse(std::string_view text, const std::string& file_name);

}  // namespace

WorkersFile parseWorkersFile(std::string_view text, const std::string& file_name) {
  try {
    return parse(text, file_name);
  } catch (const YAML::Exception& e) {
    // Anything yaml-cpp refuses that the checks below did not foresee: still a clear error.
    fail(file_name, e.mark, e.msg);
  }
}

namespace {

WorkersFile parse(std::string_view text, const std::string& file_name) {
  WorkersFile result{file_name, {}};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    fail(file_name, e.mark, e.msg);
  }
  if (!root.IsMap() || !root["workers"]) {
    throw ConfigError(fmt::format("{}:1:1: expected a `workers:` map of worker names", file_name));
  }
  const YAML::Node workers = root["workers"];
  if (!workers.IsMap()) fail(file_name, workers.Mark(), "`workers` must be a map of worker names");

  for (const auto& pair : workers) {
    WorkerEntry entry;
    if (!pair.first.IsScalar()) fail(file_name, pair.first.Mark(), "a worker's name must be text");
    entry.name = pair.first.Scalar();
    entry.position = positionOf(pair.first);
    const YAML::Node& body = pair.second;
    if (!body.IsMap()) {
      fail(file_name, pair.first.Mark(),
           fmt::format("worker `{}` must be a map with `statefile` and `projects`", entry.name));
    }
    const YAML::Node statefile = body["statefile"];
    if (!statefile || !statefile.IsScalar() || statefile.Scalar().empty()) {
      fail(file_name, pair.first.Mark(),
           fmt::format("worker `{}` needs `statefile`, a file of the state machine folder",
                       entry.name));
    }
    entry.statefile = statefile.Scalar();
    entry.statefile_position = positionOf(statefile);
    const YAML::Node projects = body["projects"];
    if (!projects || !projects.IsSequence() || projects.size() == 0) {
      fail(file_name, projects ? projects.Mark() : pair.first.Mark(),
           fmt::format("worker `{}` needs `projects`, a list of Jira project keys", entry.name));
    }
    for (const auto& project : projects) {
      if (!project.IsScalar()) fail(file_name, project.Mark(), "a project must be a project key");
      entry.projects.push_back(project.Scalar());
      entry.project_positions.push_back(positionOf(project));
    }
    YAML::Emitter emitter;
    emitter << body;
    entry.settings_yaml = emitter.c_str();
    result.workers.push_back(std::move(entry));
  }
  return result;
}

}  // namespace

}  // namespace conduit::config
