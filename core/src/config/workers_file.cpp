#include "config/workers_file.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "config/config_error.hpp"

namespace conduit::config {
namespace {

[[noreturn]] void fail(const std::string& file, const YAML::Mark& mark, const std::string& what) {
  throw ConfigError(fmt::format("{}:{}:{}: {}", file, mark.line + 1, mark.column + 1, what));
}

// YAML as JSON for the plugin. Plain scalars that YAML reads as booleans, null or numbers become
// those; quoted scalars and everything else stay strings.
void writeJson(const YAML::Node& node, rapidjson::Writer<rapidjson::StringBuffer>& out) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out.StartObject();
      for (const auto& pair : node) {
        const std::string key = pair.first.Scalar();
        out.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
        writeJson(pair.second, out);
      }
      out.EndObject();
      return;
    case YAML::NodeType::Sequence:
      out.StartArray();
      for (const auto& item : node)
        writeJson(item, out);
      out.EndArray();
      return;
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() != "!") {  // not quoted
        if (text == "true" || text == "false") {
          out.Bool(text == "true");
          return;
        }
        if (text == "null" || text == "~") {
          out.Null();
          return;
        }
        char* end = nullptr;
        const long long integer = std::strtoll(text.c_str(), &end, 10);
        if (!text.empty() && *end == '\0') {
          out.Int64(integer);
          return;
        }
      }
      out.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
      return;
    }
    default:
      out.Null();
  }
}

WorkerEntry::Position positionOf(const YAML::Node& node) {
  return {node.Mark().line + 1, node.Mark().column + 1};
}

}  // namespace

namespace {

WorkersFile parse(std::string_view text, const std::string& file_name);

}  // namespace

std::string pluginFor(std::string_view worker_name, std::string_view plugin_key) {
  if (!plugin_key.empty()) return std::string(plugin_key);
  if (worker_name == "atlassian") return "jira";
  return std::string(worker_name);
}

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
    const YAML::Node plugin = body["plugin"];
    if (plugin && (!plugin.IsScalar() || plugin.Scalar().empty())) {
      fail(file_name, plugin.Mark(),
           fmt::format("worker `{}`: `plugin` names a plugin", entry.name));
    }
    entry.plugin = pluginFor(entry.name, plugin ? plugin.Scalar() : "");
    rapidjson::StringBuffer json;
    rapidjson::Writer<rapidjson::StringBuffer> writer(json);
    writeJson(body, writer);
    entry.settings_json.assign(json.GetString(), json.GetSize());
    result.workers.push_back(std::move(entry));
  }
  return result;
}

}  // namespace

}  // namespace conduit::config
