#include <random>
#include <string>

#include <doctest/doctest.h>

#include "statemachine/hcl_parser.hpp"
#include "statemachine/state_machine_loader.hpp"

using conduit::statemachine::loadStateMachines;

// Random and truncated inputs must end in errors, never in a crash, a hang or undefined
// behaviour; the sanitizer build runs these too.

namespace {

const std::string kValid = R"(# comment
provisioner "soc" {
  aliasmapper "soc" {
    aliases = {
      to_do: "To Do",
      in_progress: "In \"Progress\" \u00e9",
      done: <<-EOT
        Done
        EOT
    }
  }
  statemachine "soc" {
    initial = "to_do" // why
    state "to_do" "next" { transition = "in_progress" }
    state "in_progress" "next" { transition = "done" }
    /* block */ state "done" "next" { transition = "<end>" }
    list = [1, -2.5e3, true, null, { a = [] }]
  }
}
)";

}  // namespace

TEST_CASE("robustness: every prefix of a valid file is read without a crash") {
  for (size_t size = 0; size <= kValid.size(); ++size) {
    auto result = loadStateMachines({{"t.hcl", kValid.substr(0, size)}});
    (void)result;
  }
}

TEST_CASE("robustness: random bytes and random mutations of a valid file") {
  std::mt19937 random(20261128);
  const std::string alphabet =
      "{}[]\"=:,\\<>-$%#/*\n\r\t ()?!&|+ abcdefghijklmnopqrstuvwxyz0123456789.eEuU\xc3\xa9";
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    if (round % 2 == 0) {
      std::uniform_int_distribution<size_t> length(0, 300);
      std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
      text.resize(length(random));
      for (char& c : text)
        c = alphabet[pick(random)];
    } else {
      text = kValid;
      std::uniform_int_distribution<size_t> where(0, text.size() - 1);
      std::uniform_int_distribution<int> byte(0, 255);
      for (int edits = 0; edits < 4; ++edits)
        text[where(random)] = static_cast<char>(byte(random));
    }
    auto result = loadStateMachines({{"t.hcl", text}});
    (void)result;
  }
}
