#include "statemachine/state_machine_loader.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include "statemachine/hcl_parser.hpp"

namespace conduit::statemachine {
namespace {

using hcl::Block;
using hcl::Body;
using hcl::Position;
using hcl::Value;

// Collects the problems of one file, each with its position.
class Problems {
 public:
  Problems(const std::string& file, std::vector<std::string>& out) : file_(file), out_(out) {}

  void add(Position at, const std::string& message) {
    out_.push_back(fmt::format("{}:{}:{}: {}", file_, at.line, at.column, message));
  }
  std::string where(Position at) const { return fmt::format("{}:{}", file_, at.line); }
  const std::string& file() const { return file_; }

 private:
  const std::string& file_;
  std::vector<std::string>& out_;
};

// A provisioner as found in a file, before it is checked and built.
struct Draft {
  std::string name;
  Position position;
  const Block* aliasmapper = nullptr;
  const Block* statemachine = nullptr;
};

void refuseAttributes(const Body& body, const std::string& where, Problems& problems) {
  for (const auto& attribute : body.attributes) {
    problems.add(attribute.position,
                 fmt::format("unknown attribute `{}` in {}", attribute.name, where));
  }
}

bool checkLabels(const Block& block, size_t count, const char* meaning, Problems& problems) {
  if (block.labels.size() == count) return true;
  problems.add(block.position,
               fmt::format("`{}` takes {} label{} ({}), found {}", block.type, count,
                           count == 1 ? "" : "s", meaning, block.labels.size()));
  return false;
}

// A string attribute: absent, present but not a string (reported here), or its value.
struct StringAttribute {
  bool present = false;
  std::optional<std::string> value;
  Position position;
};

StringAttribute stringAttribute(const Body& body, const std::string& name, Problems& problems) {
  for (const auto& attribute : body.attributes) {
    if (attribute.name != name) continue;
    if (attribute.value.kind != Value::Kind::kString) {
      problems.add(attribute.value.position,
                   fmt::format("`{}` must be a string, not {}", name, attribute.value.kindName()));
      return {true, std::nullopt, attribute.value.position};
    }
    return {true, attribute.value.text, attribute.value.position};
  }
  return {};
}

bool checkLabelMatches(const Block& block, const Draft& draft, Problems& problems) {
  if (block.labels.empty() || block.labels[0] == draft.name) return true;
  problems.add(block.label_positions[0],
               fmt::format("the {} is labelled \"{}\" but belongs to provisioner \"{}\": the "
                           "labels must be equal",
                           block.type, block.labels[0], draft.name));
  return false;
}

// Checks one provisioner and builds its machine; nullopt when it has problems.
std::optional<StateMachine> build(const Draft& draft, Problems& problems) {
  bool ok = true;
  auto problem = [&](Position at, const std::string& message) {
    problems.add(at, message);
    ok = false;
  };

  if (auto why = projectKeyProblem(draft.name)) {
    problem(draft.position,
            fmt::format("provisioner \"{}\" cannot be a Jira project key: {}", draft.name, *why));
  }
  if (draft.aliasmapper == nullptr) {
    problem(draft.position, fmt::format("provisioner \"{}\" has no aliasmapper block", draft.name));
  }
  if (draft.statemachine == nullptr) {
    problem(draft.position,
            fmt::format("provisioner \"{}\" has no statemachine block", draft.name));
  }

  // Aliases: state id -> Jira status, each status unambiguous. Every problem is still looked
  // for when some block is missing; checks that need the aliases are skipped without them, so
  // that one mistake does not come back as a cascade of others.
  StateMachine machine(draft.name, problems.file());
  std::map<std::string, Position> alias_positions;  // every state id given an alias
  bool aliases_known = false;
  if (draft.aliasmapper != nullptr) {
    const Body& aliasmapper = draft.aliasmapper->body;
    ok = checkLabelMatches(*draft.aliasmapper, draft, problems) && ok;
    for (const auto& block : aliasmapper.blocks) {
      problem(block.position, fmt::format("unknown block `{}` in aliasmapper", block.type));
    }
    const Value* aliases = nullptr;
    bool aliases_present = false;
    for (const auto& attribute : aliasmapper.attributes) {
      if (attribute.name != "aliases") {
        problem(attribute.position,
                fmt::format("unknown attribute `{}` in aliasmapper (expected `aliases`)",
                            attribute.name));
        continue;
      }
      aliases_present = true;
      if (attribute.value.kind != Value::Kind::kObject) {
        problem(attribute.value.position,
                fmt::format("`aliases` must be an object of state id = \"Jira status\", not {}",
                            attribute.value.kindName()));
      } else {
        aliases = &attribute.value;
      }
    }
    if (!aliases_present) problem(draft.aliasmapper->position, "the aliasmapper has no `aliases`");
    aliases_known = aliases != nullptr;

    std::map<std::string, std::pair<std::string, Position>> by_status;
    for (const auto& item : aliases_known ? aliases->members : std::vector<hcl::ObjectItem>{}) {
      if (auto [it, added] = alias_positions.emplace(item.key, item.position); !added) {
        problem(item.position, fmt::format("state `{}` is aliased twice (first at line {})",
                                           item.key, it->second.line));
        continue;
      }
      if (item.value.kind != Value::Kind::kString) {
        problem(item.value.position, fmt::format("the alias of `{}` must be a string, not {}",
                                                 item.key, item.value.kindName()));
        continue;
      }
      const std::string status = normalizeStatus(item.value.text);
      if (status.empty()) {
        problem(item.value.position, fmt::format("the alias of `{}` is empty", item.key));
        continue;
      }
      if (auto [it, added] = by_status.emplace(status, std::make_pair(item.key, item.position));
          !added) {
        problem(item.value.position,
                fmt::format("states `{}` and `{}` are both aliased to \"{}\" (ignoring case and "
                            "spaces): a Jira status must name one state",
                            it->second.first, item.key, item.value.text));
        continue;
      }
      machine.addState(item.key, item.value.text);
    }
  }
  if (draft.statemachine == nullptr) return std::nullopt;

  // The machine: initial state and transitions.
  const Block& statemachine = *draft.statemachine;
  ok = checkLabelMatches(statemachine, draft, problems) && ok;
  for (const auto& attribute : statemachine.body.attributes) {
    if (attribute.name != "initial") {
      problem(attribute.position,
              fmt::format("unknown attribute `{}` in statemachine (expected `initial` and "
                          "`state` blocks)",
                          attribute.name));
    }
  }
  auto initial = stringAttribute(statemachine.body, "initial", problems);
  if (!initial.present) {
    problem(statemachine.position,
            fmt::format("the statemachine of \"{}\" has no `initial` state", draft.name));
  } else if (!initial.value) {
    ok = false;  // reported: not a string
  } else if (aliases_known && alias_positions.count(*initial.value) == 0) {
    problem(initial.position,
            fmt::format("the initial state `{}` has no alias in the aliasmapper", *initial.value));
  } else {
    machine.setInitial(*initial.value);
  }

  struct Edge {
    std::string from, event, target;
    Position from_position, target_position;
  };
  std::vector<Edge> edges;
  std::set<std::string> declared;
  std::map<std::pair<std::string, std::string>, Position> seen_edges;
  for (const auto& block : statemachine.body.blocks) {
    if (block.type != "state") {
      problem(block.position,
              fmt::format("unknown block `{}` in statemachine (expected `state`)", block.type));
      continue;
    }
    if (!checkLabels(block, 2, "the state id and the event", problems)) {
      ok = false;
      continue;
    }
    for (const auto& attribute : block.body.attributes) {
      if (attribute.name != "transition") {
        problem(
            attribute.position,
            fmt::format("unknown attribute `{}` in state (expected `transition`)", attribute.name));
      }
    }
    for (const auto& inner : block.body.blocks) {
      problem(inner.position, fmt::format("unknown block `{}` in state", inner.type));
    }
    auto target = stringAttribute(block.body, "transition", problems);
    if (!target.present) {
      problem(block.position, fmt::format("state \"{}\" \"{}\" has no `transition`",
                                          block.labels[0], block.labels[1]));
      continue;
    }
    const auto key = std::make_pair(block.labels[0], block.labels[1]);
    if (auto [it, added] = seen_edges.emplace(key, block.position); !added) {
      problem(block.position, fmt::format("state \"{}\" \"{}\" conflicts with the one at line {}: "
                                          "one state cannot have the same event twice",
                                          block.labels[0], block.labels[1], it->second.line));
      continue;
    }
    declared.insert(block.labels[0]);
    if (!target.value) {
      ok = false;  // reported: not a string
      continue;
    }
    edges.push_back(Edge{block.labels[0], block.labels[1], *target.value, block.label_positions[0],
                         target.position});
  }
  for (const auto& edge : edges) {
    if (aliases_known && alias_positions.count(edge.from) == 0) {
      problem(edge.from_position,
              fmt::format("state `{}` has no alias in the aliasmapper", edge.from));
    }
    // A declared target's alias is checked where its own state block stands.
    if (edge.target != kEndState && declared.count(edge.target) == 0) {
      problem(edge.target_position,
              fmt::format("the transition target `{}` is not declared by a `state` block of this "
                          "machine (nor is it `<end>`)",
                          edge.target));
    }
  }
  if (!ok || !aliases_known) return std::nullopt;
  for (const auto& edge : edges)
    machine.addTransition(edge.from, edge.event, edge.target);
  return machine;
}

// The provisioners of one file, with their blocks found (and misplaced ones reported).
std::vector<Draft> findProvisioners(const Body& file, Problems& problems) {
  std::vector<Draft> drafts;
  std::vector<const Block*> top_level_machines;
  refuseAttributes(file, "a state file (only provisioner and statemachine blocks go here)",
                   problems);
  for (const auto& block : file.blocks) {
    if (block.type == "statemachine") {
      if (checkLabels(block, 1, "the provisioner's name", problems)) {
        top_level_machines.push_back(&block);
      }
      continue;
    }
    if (block.type != "provisioner") {
      problems.add(block.position,
                   fmt::format("unknown block `{}` (expected `provisioner`)", block.type));
      continue;
    }
    if (!checkLabels(block, 1, "its name, the Jira project key", problems)) continue;
    Draft draft{block.labels[0], block.position, nullptr, nullptr};
    refuseAttributes(block.body, "provisioner (expected aliasmapper and statemachine blocks)",
                     problems);
    for (const auto& inner : block.body.blocks) {
      const Block** slot = inner.type == "aliasmapper"    ? &draft.aliasmapper
                           : inner.type == "statemachine" ? &draft.statemachine
                                                          : nullptr;
      if (slot == nullptr) {
        problems.add(inner.position,
                     fmt::format("unknown block `{}` in provisioner (expected aliasmapper and "
                                 "statemachine)",
                                 inner.type));
      } else if (*slot != nullptr) {
        problems.add(inner.position, fmt::format("provisioner \"{}\" has a second {} (the first "
                                                 "is at line {})",
                                                 draft.name, inner.type, (*slot)->position.line));
      } else if (checkLabels(inner, 1, "the provisioner's name", problems)) {
        *slot = &inner;
      }
    }
    drafts.push_back(draft);
  }
  // The original's documentation also puts `statemachine "x"` beside `provisioner "x"`.
  std::map<std::string, Draft*> by_key;
  for (auto& draft : drafts)
    by_key.emplace(projectKey(draft.name), &draft);
  for (const Block* machine : top_level_machines) {
    auto found = by_key.find(projectKey(machine->labels[0]));
    Draft* owner = found == by_key.end() ? nullptr : found->second;
    if (owner == nullptr) {
      problems.add(machine->label_positions[0],
                   fmt::format("statemachine \"{}\" has no provisioner \"{}\" in this file",
                               machine->labels[0], machine->labels[0]));
    } else if (owner->statemachine != nullptr) {
      problems.add(machine->position, fmt::format("provisioner \"{}\" has a second statemachine "
                                                  "(the first is at line {})",
                                                  owner->name, owner->statemachine->position.line));
    } else {
      owner->statemachine = machine;
    }
  }
  return drafts;
}

}  // namespace

LoadResult loadStateMachines(const std::vector<StateFile>& files) {
  LoadResult result;
  std::map<std::string, std::string> first_seen;  // upper-case name -> file:line
  for (const auto& file : files) {
    Problems problems(file.name, result.errors);
    Body body;
    try {
      body = hcl::parse(file.text, file.name);
    } catch (const hcl::SyntaxError& e) {
      result.errors.push_back(e.what());
      result.unreadable_files.insert(file.name);
      continue;
    }
    for (const auto& draft : findProvisioners(body, problems)) {
      const std::string key = projectKey(draft.name);
      result.declared.emplace(key, file.name);
      if (auto [it, added] = first_seen.emplace(key, problems.where(draft.position)); !added) {
        problems.add(draft.position,
                     fmt::format("provisioner \"{}\" has the same name, ignoring case, as the one "
                                 "at {}",
                                 draft.name, it->second));
        continue;
      }
      if (auto machine = build(draft, problems)) result.machines.add(std::move(*machine));
    }
  }
  return result;
}

}  // namespace conduit::statemachine
