#include "statemachine/state_machine.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <set>

#include <fmt/format.h>

namespace conduit::statemachine {

namespace {

// ASCII case folding, inlined: the C library's tolower is a call per character, and it is
// the larger part of a query's cost. (Jira keys are ASCII; statuses fold their ASCII letters.)
constexpr char asciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}
constexpr char asciiUpper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// `text` (already trimmed) equals `key` (lower case) ignoring case.
bool equalsKey(std::string_view text, std::string_view key) {
  if (text.size() != key.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (asciiLower(text[i]) != key[i]) return false;
  }
  return true;
}

}  // namespace

std::string normalizeStatus(std::string_view status) {
  std::string out(trimmed(status));
  for (char& c : out)
    c = asciiLower(c);
  return out;
}

std::string projectKey(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    c = asciiUpper(c);
  return out;
}

std::optional<std::string> projectKeyProblem(std::string_view name) {
  if (name.empty()) return std::string("it is empty");
  for (char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return std::string("Jira project keys are ASCII: letters A to Z, digits and `_`");
    }
  }
  if (std::isalpha(static_cast<unsigned char>(name.front())) == 0) {
    return fmt::format("it must start with a letter, not `{}`", name.front());
  }
  if (name.size() < 2) return std::string("Jira project keys have at least two characters");
  for (char c : name) {
    if (c == '-') {
      return std::string(
          "Jira project keys never contain `-` (the dash separates the key from "
          "the issue number, as in SOC-12); use `_`");
    }
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') {
      return fmt::format("`{}` cannot appear in a Jira project key (letters, digits and `_` only)",
                         c);
    }
  }
  return std::nullopt;
}

StateMachine::StateMachine(std::string name, std::string file)
    : key_(projectKey(name)), name_(std::move(name)), file_(std::move(file)) {}

void StateMachine::addState(std::string id, std::string status) {
  std::string status_key = normalizeStatus(status);
  states_.push_back(State{std::move(id), std::move(status), std::move(status_key)});
}

int StateMachine::indexOf(std::string_view id) const {
  for (size_t i = 0; i < states_.size(); ++i) {
    if (states_[i].id == id) return static_cast<int>(i);
  }
  return kNone;
}

int StateMachine::indexOfStatus(std::string_view status) const {
  status = trimmed(status);
  for (size_t i = 0; i < states_.size(); ++i) {
    if (equalsKey(status, states_[i].status_key)) return static_cast<int>(i);
  }
  return kNone;
}

void StateMachine::addTransition(std::string_view from_state, std::string event,
                                 std::string_view target) {
  const int from = indexOf(from_state);
  const int to = target == kEndState ? kEnd : indexOf(target);
  if (from == kNone || to == kNone) return;  // the loader reports these
  Transition t{states_[static_cast<size_t>(from)].status_key, std::move(event), from, to, {}, {}};
  if (to != kEnd) {
    t.target_id = states_[static_cast<size_t>(to)].id;
    t.target_status = states_[static_cast<size_t>(to)].status;
  }
  transitions_.push_back(std::move(t));
}

std::vector<std::string> StateMachine::events() const {
  std::set<std::string> names;
  for (const auto& t : transitions_)
    names.insert(t.event);
  return {names.begin(), names.end()};
}

StateMachine::Query StateMachine::next(std::string_view status, std::string_view event) const {
  const std::string_view wanted = trimmed(status);
  for (const auto& t : transitions_) {
    if (t.event != event || !equalsKey(wanted, t.from_key)) continue;
    if (t.target == kEnd) return {Next{true, kEndState, {}}, {}};
    return {Next{false, t.target_id, t.target_status}, {}};
  }
  // No answer: say why.
  const int index = indexOfStatus(status);
  if (index == kNone) {
    return {std::nullopt, fmt::format("the status \"{}\" has no alias in the state machine of {} "
                                      "({})",
                                      status, name_, file_)};
  }
  const auto& from = states_[static_cast<size_t>(index)];
  return {std::nullopt, fmt::format("the state {} (\"{}\") of {} has no event `{}`", from.id,
                                    from.status, name_, event)};
}

std::optional<std::vector<std::string>> StateMachine::path(std::string_view from_status,
                                                           std::string_view to_state) const {
  const int start = indexOfStatus(from_status);
  const int goal = indexOf(to_state);
  if (start < 0 || goal < 0) return std::nullopt;

  // Breadth-first: the first time the goal is reached is by a shortest path.
  std::vector<int> came_from(states_.size(), -1);
  std::vector<const std::string*> via(states_.size(), nullptr);
  std::vector<bool> seen(states_.size(), false);
  std::deque<int> frontier{start};
  seen[static_cast<size_t>(start)] = true;
  while (!frontier.empty()) {
    const int here = frontier.front();
    frontier.pop_front();
    if (here == goal) break;
    for (const auto& t : transitions_) {
      if (t.from != here || t.target == kEnd || seen[static_cast<size_t>(t.target)]) continue;
      seen[static_cast<size_t>(t.target)] = true;
      came_from[static_cast<size_t>(t.target)] = here;
      via[static_cast<size_t>(t.target)] = &t.event;
      frontier.push_back(t.target);
    }
  }
  if (!seen[static_cast<size_t>(goal)]) return std::nullopt;
  std::vector<std::string> events;
  for (int at = goal; at != start; at = came_from[static_cast<size_t>(at)]) {
    events.push_back(*via[static_cast<size_t>(at)]);
  }
  std::reverse(events.begin(), events.end());
  return events;
}

uint32_t StateMachines::hashKey(std::string_view project) {
  // FNV-1a over the upper-cased bytes, so that any case of a key finds it.
  uint32_t hash = 2166136261U;
  for (char c : project) {
    hash ^= static_cast<unsigned char>(asciiUpper(c));
    hash *= 16777619U;
  }
  return hash;
}

void StateMachines::add(StateMachine machine) {
  machines_.push_back(std::move(machine));
  rebuildIndex();
}

void StateMachines::rebuildIndex() {
  if (machines_.size() * 2 <= slots_.size()) {
    // Room left: place the newest machine only.
    const uint32_t index = static_cast<uint32_t>(machines_.size() - 1);
    const uint32_t hash = hashKey(machines_.back().key());
    size_t i = hash & (slots_.size() - 1);
    while (slots_[i].index != kUnused)
      i = (i + 1) & (slots_.size() - 1);
    slots_[i] = Slot{hash, index};
    return;
  }
  size_t size = 16;
  while (size < machines_.size() * 4)
    size *= 2;
  slots_.assign(size, Slot{});
  for (size_t index = 0; index < machines_.size(); ++index) {
    const uint32_t hash = hashKey(machines_[index].key());
    size_t i = hash & (size - 1);
    while (slots_[i].index != kUnused)
      i = (i + 1) & (size - 1);
    slots_[i] = Slot{hash, static_cast<uint32_t>(index)};
  }
}

const StateMachine* StateMachines::find(std::string_view project) const {
  if (slots_.empty()) return nullptr;
  const uint32_t hash = hashKey(project);
  for (size_t i = hash & (slots_.size() - 1); slots_[i].index != kUnused;
       i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].hash != hash) continue;
    const StateMachine& machine = machines_[slots_[i].index];
    const std::string& key = machine.key();
    if (key.size() == project.size() &&
        std::equal(key.begin(), key.end(), project.begin(),
                   [](char a, char b) { return a == asciiUpper(b); })) {
      return &machine;
    }
  }
  return nullptr;
}

StateMachine::Query StateMachines::next(std::string_view project, std::string_view status,
                                        std::string_view event) const {
  const StateMachine* machine = find(project);
  if (machine == nullptr) {
    return {std::nullopt, fmt::format("no provisioner is named {}", project)};
  }
  return machine->next(status, event);
}

}  // namespace conduit::statemachine
