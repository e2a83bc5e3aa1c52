// State machine benchmark: reads and validates a generated state file of 10,000 provisioners,
// then times a million `next` queries spread over them. Goals: under a second for the file,
// under 200 ns a query.
//
// usage: conduit_statemachine_bench [PROVISIONERS] [QUERIES]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "statemachine/state_machine_loader.hpp"

namespace {

// A provisioner like the seed's, with a QA column: four states, three events.
std::string provisioner(int n) {
  return fmt::format(R"(provisioner "proj{0}" {{
  aliasmapper "proj{0}" {{
    aliases = {{
      to_do: "To Do",
      in_progress: "In Progress",
      in_qa: "In QA",
      done: "Done"
    }}
  }}

  statemachine "proj{0}" {{
    initial = "to_do"

    state "to_do" "next" {{
      transition = "in_progress"
    }}

    state "in_progress" "next" {{
      transition = "in_qa"
    }}

    state "in_progress" "prev" {{
      transition = "to_do"
    }}

    state "in_qa" "next" {{
      transition = "done"
    }}

    state "in_qa" "reject" {{
      transition = "in_progress"
    }}

    state "done" "next" {{
      transition = "<end>"
    }}
  }}
}}
)",
                     n);
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int provisioners = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int queries = argc > 2 ? std::atoi(argv[2]) : 1000000;

  std::string text;
  for (int i = 0; i < provisioners; ++i)
    text += provisioner(i);

  auto started = std::chrono::steady_clock::now();
  auto result = conduit::statemachine::loadStateMachines({{"generated.hcl", text}});
  const double load_seconds = secondsSince(started);
  if (!result.errors.empty()) {
    fmt::print(stderr, "unexpected error: {}\n", result.errors.front());
    return 1;
  }

  // The queries are drawn beforehand, so that only `next` is timed. Project keys come in the
  // case Jira writes them, statuses as Jira names them.
  struct Query {
    std::string project, status;
    const char* event;
  };
  // Every (status, event) pair that has an answer, and some that are errors.
  static const std::pair<const char*, const char*> kAnswered[] = {
      {"To Do", "next"}, {"In Progress", "next"}, {"In Progress", "prev"},
      {"In QA", "next"}, {"In QA", "reject"},     {"Done", "next"}};
  static const std::pair<const char*, const char*> kRefused[] = {{"Blocked", "next"},
                                                                 {"To Do", "reject"}};
  std::mt19937 random(42);
  std::uniform_int_distribution<int> pick_project(0, provisioners - 1);
  auto draw = [&](const auto& pairs) {
    std::uniform_int_distribution<size_t> pick(0, std::size(pairs) - 1);
    std::vector<Query> drawn;
    for (int i = 0; i < 4096; ++i) {
      const auto& [status, event] = pairs[pick(random)];
      drawn.push_back({fmt::format("PROJ{}", pick_project(random)), status, event});
    }
    return drawn;
  };
  auto time = [&](const std::vector<Query>& drawn, int count, bool expect_answer) {
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
      const Query& q = drawn[static_cast<size_t>(i) & 4095];
      auto answer = result.machines.next(q.project, q.status, q.event);
      if (answer.next.has_value() != expect_answer) {
        fmt::print(stderr, "unexpected answer for {} {} {}\n", q.project, q.status, q.event);
        std::exit(1);
      }
    }
    return secondsSince(begin) * 1e9 / count;
  };
  // This machine is shared: each figure is the best of five rounds, the one least disturbed.
  auto best = [&](auto measure) {
    double least = measure();
    for (int round = 1; round < 5; ++round)
      least = std::min(least, measure());
    return least;
  };
  const auto answered = draw(kAnswered);
  const auto refused = draw(kRefused);
  const double answered_ns = best([&] { return time(answered, queries, true); });
  const double refused_ns = best([&] { return time(refused, queries / 10, false); });

  fmt::print("state file: {} provisioners, {:.1f} MB, read and validated in {:.3f} s\n",
             provisioners, static_cast<double>(text.size()) / 1e6, load_seconds);
  fmt::print(
      "next: {} queries with an answer, drawn at random over {} projects, {:.0f} ns a "
      "query\n",
      queries, provisioners, answered_ns);
  fmt::print(
      "next: {} queries refused (no alias, no event), {:.0f} ns a query (the error "
      "message is built)\n",
      queries / 10, refused_ns);
  return 0;
}
