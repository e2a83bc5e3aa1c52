// Reading smart commits: the commands, their issues, durations and transitions' names.
#include "smart_commits.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using conduit::jira::Duration;
using conduit::jira::JiraSettings;
using conduit::jira::matchTransition;
using conduit::jira::parseDuration;
using conduit::jira::parseSmartCommands;
using conduit::jira::SmartCommand;
using conduit::jira::SmartCommands;
using conduit::jira::Transition;
using Kind = SmartCommand::Kind;
using Keys = std::vector<std::string>;

namespace {

SmartCommands parse(std::string_view text, size_t max = conduit::jira::kMaxSmartCommandsPerText) {
  return parseSmartCommands(text, {"SOC", "DEVHOP"}, JiraSettings::KeyCase::kExact, max);
}

#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr std::chrono::milliseconds kLinearBound{3000};
#else
constexpr std::chrono::milliseconds kLinearBound{500};
#endif

std::string repeated(const std::string& piece, size_t bytes) {
  std::string text;
  text.reserve(bytes + piece.size());
  while (text.size() < bytes)
    text += piece;
  return text;
}

std::chrono::milliseconds timedParse(const std::string& text) {
  const auto started = std::chrono::steady_clock::now();
  auto found = parse(text);
  (void)found;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               started);
}

const std::vector<Transition> kAvailableFromStart = {{"11", "Start work", "In Progress"},
                                                     {"12", "Start review", "In Review"},
                                                     {"13", "Done", "Done"}};

}  // namespace

TEST_CASE("smart commits: a comment - its text to the line's end") {
  auto found = parse("SOC-12 #comment corrected indent issue");
  REQUIRE(found.commands.size() == 1);
  const auto& command = found.commands[0];
  CHECK(command.kind == Kind::kComment);
  CHECK(command.keys == Keys{"SOC-12"});
  CHECK(command.text == "corrected indent issue");
  CHECK(command.error.empty());
}

TEST_CASE("smart commits: text between the key and the command is ignored, as Jira does") {
  auto found = parse("Fix SOC-12: the login form #comment done");
  REQUIRE(found.commands.size() == 1);
  CHECK(found.commands[0].keys == Keys{"SOC-12"});
  CHECK(found.commands[0].text == "done");
}

TEST_CASE("smart commits: time - units, decimals, the rest its comment") {
  auto found = parse("SOC-1 #time 1w 2d 4h 30m Total work logged");
  REQUIRE(found.commands.size() == 1);
  CHECK(found.commands[0].kind == Kind::kTime);
  CHECK(found.commands[0].seconds == 40 * 3600 + 2 * 8 * 3600 + 4 * 3600 + 30 * 60);
  CHECK(found.commands[0].text == "Total work logged");

  auto decimal = parse("SOC-1 #time 1.5h");
  REQUIRE(decimal.commands.size() == 1);
  CHECK(decimal.commands[0].seconds == 5400);
  CHECK(decimal.commands[0].text.empty());
}

TEST_CASE("smart commits: several commands on one line - each text ends at the next") {
  auto found = parse("SOC-1 #time 2d 5h Fixed #comment Task completed ahead of schedule #resolve");
  REQUIRE(found.commands.size() == 3);
  CHECK(found.commands[0].kind == Kind::kTime);
  CHECK(found.commands[0].seconds == 2 * 8 * 3600 + 5 * 3600);
  CHECK(found.commands[0].text == "Fixed");
  CHECK(found.commands[1].kind == Kind::kComment);
  CHECK(found.commands[1].text == "Task completed ahead of schedule");
  CHECK(found.commands[2].kind == Kind::kTransition);
  CHECK(found.commands[2].transition == "resolve");
  CHECK(found.commands[2].text.empty());
  for (const auto& command : found.commands)
    CHECK(command.keys == Keys{"SOC-1"});
}

TEST_CASE("smart commits: several keys before the commands - each command for each") {
  auto found = parse("SOC-1 SOC-2 DEVHOP-3 #done");
  REQUIRE(found.commands.size() == 1);
  CHECK(found.commands[0].keys == Keys{"SOC-1", "SOC-2", "DEVHOP-3"});
  CHECK(found.commands[0].transition == "done");
}

TEST_CASE("smart commits: a command does not span lines - each line has its own keys") {
  auto found = parse(
      "SOC-1 #comment first line\nsecond line #comment without a key\r\nSOC-2 #start-work "
      "as planned\n#done");
  REQUIRE(found.commands.size() == 2);
  CHECK(found.commands[0].text == "first line");
  CHECK(found.commands[0].keys == Keys{"SOC-1"});
  CHECK(found.commands[1].kind == Kind::kTransition);
  CHECK(found.commands[1].transition == "start-work");
  CHECK(found.commands[1].text == "as planned");  // Jira's `#close Fixed this today`
  CHECK(found.commands[1].keys == Keys{"SOC-2"});
}

TEST_CASE("smart commits: keys after the first command are its text - not its issues") {
  auto found = parse("SOC-1 #comment see SOC-2 for the rest");
  REQUIRE(found.commands.size() == 1);
  CHECK(found.commands[0].keys == Keys{"SOC-1"});
  CHECK(found.commands[0].text == "see SOC-2 for the rest");
}

TEST_CASE("smart commits: what is not a command") {
  CHECK(parse("SOC-1 fixes #123").commands.empty());  // an issue number of the host
  CHECK(parse("SOC-1 in C#done").commands.empty());   // not after a blank
  CHECK(parse("SOC-1 #done.").commands.empty());      // not up to a blank
  CHECK(parse("SOC-1 # comment").commands.empty());   // a `#` alone
  CHECK(parse("soc-1 #done").commands.empty());       // not a key (key_case: exact)
  CHECK(parse("XSOC-1 #done").commands.empty());      // not a key either
  CHECK(parse("OTHER-1 #done").commands.empty());     // not a project of the worker
  CHECK(parse("#done SOC-1").commands.empty());       // the key after the command
  CHECK(parse("").commands.empty());
  CHECK(parse("\n\n\n").commands.empty());
  // A `#123` within a command's text stays text.
  auto found = parse("SOC-1 #comment fixes #123 and #45");
  REQUIRE(found.commands.size() == 1);
  CHECK(found.commands[0].text == "fixes #123 and #45");
}

TEST_CASE("smart commits: comment and time in any case - other names are transitions") {
  auto found = parse("SOC-1 #Comment a #TIME 1H #Start-Work");
  REQUIRE(found.commands.size() == 3);
  CHECK(found.commands[0].kind == Kind::kComment);
  CHECK(found.commands[1].kind == Kind::kTime);
  CHECK(found.commands[1].seconds == 3600);
  CHECK(found.commands[2].kind == Kind::kTransition);
  CHECK(found.commands[2].transition == "Start-Work");
}

TEST_CASE("smart commits: malformed commands are kept - failing with why") {
  auto none = parse("SOC-1 #time soon");
  REQUIRE(none.commands.size() == 1);
  CHECK(none.commands[0].error ==
        "#time needs a duration first, such as \"1w 2d 4h 30m\" or \"1.5h\", not \"soon\"");
  auto empty = parse("SOC-1 #time");
  REQUIRE(empty.commands.size() == 1);
  CHECK(empty.commands[0].error.find("none given") != std::string::npos);
  auto zero = parse("SOC-1 #time 0h 0m");
  REQUIRE(zero.commands.size() == 1);
  CHECK(zero.commands[0].error.find("needs some time") != std::string::npos);
  auto comment = parse("SOC-1 #comment   ");
  REQUIRE(comment.commands.size() == 1);
  CHECK(comment.commands[0].error == "#comment without a text");
  auto long_name = parse("SOC-1 #" + std::string(300, 'a'));
  REQUIRE(long_name.commands.size() == 1);
  CHECK(long_name.commands[0].error.find("no transition has a name that long") !=
        std::string::npos);
}

TEST_CASE("smart commits: durations") {
  auto seconds = [](std::string_view text) { return parseDuration(text).seconds; };
  CHECK(seconds("1w") == 5 * 8 * 3600);
  CHECK(seconds("1d") == 8 * 3600);
  CHECK(seconds("1h") == 3600);
  CHECK(seconds("1m") == 60);
  CHECK(seconds("1h30m") == 5400);
  CHECK(seconds("1.5h") == 5400);
  CHECK(seconds("0.5d") == 4 * 3600);
  CHECK(seconds("1.25m") == 75);
  CHECK(seconds("2h 2h") == 4 * 3600);
  CHECK(seconds("\t3m  ") == 180);

  Duration with_text = parseDuration("1h 30m fixed it, 2 hours in all");
  CHECK(with_text.seconds == 5400);
  CHECK(with_text.error.empty());
  CHECK(std::string_view("1h 30m fixed it, 2 hours in all").substr(with_text.consumed) ==
        "fixed it, 2 hours in all");

  for (const char* bad : {"", "h", "1", "1x", "1.h", ".5h", "1..5h", "-1h", "1h-", "one hour",
                          "12345678h", "1.1234567h"}) {
    INFO(bad);
    CHECK(!parseDuration(bad).error.empty());
  }
  // Past what Jira keeps as a worklog's time: refused, not wrapped around.
  CHECK(parseDuration("9999999w").error.find("longer than Jira keeps") != std::string::npos);
  CHECK(parseDuration("9000000w 9000000w").error.find("longer than Jira keeps") !=
        std::string::npos);
}

TEST_CASE("smart commits: a transition by its name - ignoring case, - for a space") {
  std::string error;
  const Transition* found = matchTransition("start-work", kAvailableFromStart, &error);
  REQUIRE(found != nullptr);
  CHECK(found->id == "11");
  found = matchTransition("DONE", kAvailableFromStart, &error);
  REQUIRE(found != nullptr);
  CHECK(found->id == "13");
  // Jira reads a name's first word: `#start` alone could be either.
  CHECK(matchTransition("start", kAvailableFromStart, &error) == nullptr);
  CHECK(error ==
        "\"start\" could be any of \"Start work\", \"Start review\": write more of the "
        "name, with - for each space");
  const std::vector<Transition> finish = {{"21", "Finish work", "Done"}};
  found = matchTransition("finish", finish, &error);
  REQUIRE(found != nullptr);
  CHECK(found->id == "21");
  CHECK(matchTransition("dnoe", kAvailableFromStart, &error) == nullptr);
  CHECK(error ==
        "no transition \"dnoe\" is available (available: Start work -> In Progress, "
        "Start review -> In Review, Done -> Done)");
  CHECK(matchTransition("done", {}, &error) == nullptr);
  CHECK(error == "no transition \"done\" is available (available: none)");
}

TEST_CASE("smart commits: at most max commands per text - the rest left out, said so") {
  std::string text;
  for (int i = 0; i < 10; ++i)
    text += "SOC-1 #comment " + std::to_string(i) + "\n";
  auto found = parse(text, 4);
  CHECK(found.commands.size() == 4);
  CHECK(found.truncated);
  CHECK(!parse(text, 10).truncated);
}

TEST_CASE("smart commits: a megabyte of any shape is read in well under a second") {
  constexpr size_t kMegabyte = 1 << 20;
  const std::string shapes[] = {
      std::string(kMegabyte, '#'),
      repeated("SOC-1 ", kMegabyte) + "#done",
      repeated("SOC-1 #", kMegabyte),
      repeated("#a ", kMegabyte),
      repeated("SOC-1 #a", kMegabyte),
      "SOC-1 #" + std::string(kMegabyte, 'a'),
      "SOC-1 #" + std::string(kMegabyte, 'a') + ".",
      "SOC-1 #time " + std::string(kMegabyte, '1'),
      "SOC-1 #time " + repeated("1h", kMegabyte),
      "SOC-1 #time " + repeated("1h ", kMegabyte),
      "SOC-1 #comment " + repeated("SOC-2 ", kMegabyte),
      repeated("SOC-1 #done\n", kMegabyte),
      repeated("SOC-1\n#\n", kMegabyte),
      repeated("\n", kMegabyte),
      repeated("SOC-SOC-", kMegabyte) + " #done",
  };
  for (const auto& text : shapes) {
    INFO(text.substr(0, 24));
    CHECK(timedParse(text) < kLinearBound);
  }
  // Bounded output whatever the input.
  CHECK(parse(repeated("SOC-1 #done\n", kMegabyte)).commands.size() ==
        conduit::jira::kMaxSmartCommandsPerText);
  auto many_keys = parse(repeated("SOC-1 SOC-2 ", kMegabyte) + "#done");
  REQUIRE(many_keys.commands.size() == 1);
  CHECK(many_keys.commands[0].keys == Keys{"SOC-1", "SOC-2"});
  auto long_time = parse("SOC-1 #time " + repeated("1w", kMegabyte));
  REQUIRE(long_time.commands.size() == 1);
  CHECK(long_time.commands[0].error.find("longer than Jira keeps") != std::string::npos);
  CHECK(long_time.commands[0].error.size() < 200);
}

TEST_CASE("smart commits: a transition whose name holds a dash - written with it") {
  const std::vector<Transition> available = {{"31", "Re-open", "To Do"},
                                             {"32", "Sign-off", "Done"}};
  std::string error;
  for (const char* written : {"re-open", "Re-open", "RE-OPEN"}) {
    CAPTURE(written);
    const Transition* found = matchTransition(written, available, &error);
    REQUIRE(found != nullptr);
    CHECK(found->id == "31");
  }
  const Transition* found = matchTransition("sign-off", available, &error);
  REQUIRE(found != nullptr);
  CHECK(found->id == "32");
}

TEST_CASE("smart commits: key_case insensitive - soc-1 #done names SOC-1 as elsewhere") {
  auto exact = parseSmartCommands("soc-1 #done", {"SOC"}, JiraSettings::KeyCase::kExact,
                                  conduit::jira::kMaxSmartCommandsPerText);
  CHECK(exact.commands.empty());
  auto any = parseSmartCommands("soc-1 Soc-2 #done", {"SOC"}, JiraSettings::KeyCase::kInsensitive,
                                conduit::jira::kMaxSmartCommandsPerText);
  REQUIRE(any.commands.size() == 1);
  CHECK(any.commands[0].keys == Keys{"SOC-1", "SOC-2"});
}
