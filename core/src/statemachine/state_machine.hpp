#pragma once

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conduit::statemachine {

// The transition target that ends a machine: nothing comes after it.
inline constexpr std::string_view kEndState = "<end>";

// One Jira project's workflow: its states (each aliased to a Jira status, the board column),
// and the events that lead from one to another. Built by the loader, which has validated it.
//
// A workflow has a handful of states and transitions, so each sits in one contiguous vector
// scanned in order: fewer cache misses than hashing, and no allocation on a query (`next` is on
// every delivery's path).
class StateMachine {
 public:
  struct State {
    std::string id;          // to_do
    std::string status;      // To Do
    std::string status_key;  // to do: normalizeStatus(status), for matching
  };

  // What an event leads to from a status.
  struct Next {
    bool end = false;           // the transition is `<end>`: nothing to do
    std::string_view state_id;  // otherwise the target state
    std::string_view status;    // and its Jira status
  };

  struct Query {
    std::optional<Next> next;  // set on success
    std::string error;         // otherwise, a sentence for people
  };

  StateMachine(std::string name, std::string file);
  StateMachine(StateMachine&&) = default;
  StateMachine& operator=(StateMachine&&) = default;

  // Building, for the loader: every state, then the transitions. Targets are state ids or
  // kEndState.
  void addState(std::string id, std::string status);
  void setInitial(std::string state_id) { initial_ = std::move(state_id); }
  void addTransition(std::string_view from_state, std::string event, std::string_view target);

  const std::string& name() const { return name_; }  // as written in the file
  const std::string& key() const { return key_; }    // the name in upper case
  const std::string& file() const { return file_; }  // the .hcl file it came from
  const std::string& initial() const { return initial_; }
  const std::vector<State>& states() const { return states_; }
  std::vector<std::string> events() const;  // every event name, sorted

  // From the Jira status `status`, where does `event` lead?
  Query next(std::string_view status, std::string_view event) const;

  // The shortest sequence of events from the Jira status `from_status` to the state
  // `to_state`: empty when already there, nullopt when it cannot be reached.
  std::optional<std::vector<std::string>> path(std::string_view from_status,
                                               std::string_view to_state) const;

 private:
  static constexpr int kEnd = -1;
  static constexpr int kNone = -2;
  // A transition carries copies of what a query compares and answers, so that `next` reads
  // this one array and nothing else: its source's status key, its event, its target's id and
  // status (short strings, kept inline).
  struct Transition {
    std::string from_key;  // the source state's status_key
    std::string event;
    int from;    // index into states_
    int target;  // index into states_, or kEnd
    std::string target_id;
    std::string target_status;
  };

  int indexOf(std::string_view id) const;
  int indexOfStatus(std::string_view status) const;

  // The members a query reads come first, so that they share the object's first cache lines.
  std::string key_;
  std::vector<Transition> transitions_;  // in the order written
  std::vector<State> states_;
  std::string name_;
  std::string file_;
  std::string initial_;
};

// Every provisioner of a folder of state files, found by Jira project key in any case.
class StateMachines {
 public:
  void add(StateMachine machine);

  // The machine for a Jira project key or provisioner name, ignoring case; nullptr if none.
  const StateMachine* find(std::string_view project) const;

  // Shorthand for find(project)->next(status, event), with an error for an unknown project.
  StateMachine::Query next(std::string_view project, std::string_view status,
                           std::string_view event) const;

  const std::vector<StateMachine>& all() const { return machines_; }

 private:
  // An open-addressing table from the hash of a key (upper case) to its machine: one probe
  // into a flat array, then the machine itself, without building the key as a string.
  struct Slot {
    uint32_t hash = 0;
    uint32_t index = kUnused;  // into machines_
  };
  static constexpr uint32_t kUnused = UINT32_MAX;
  static uint32_t hashKey(std::string_view project);
  void rebuildIndex();

  std::vector<StateMachine> machines_;
  std::vector<Slot> slots_;  // a power of two, at most half full: 8 bytes a slot stay in cache
};

// A Jira status compared without regard to case or surrounding spaces.
std::string normalizeStatus(std::string_view status);

// A provisioner name or project key in upper case, as Jira writes keys.
std::string projectKey(std::string_view name);

// Why `name` cannot be a Jira project key (a letter, then one or more letters, digits or
// underscores), or nullopt when it can.
std::optional<std::string> projectKeyProblem(std::string_view name);

}  // namespace conduit::statemachine
