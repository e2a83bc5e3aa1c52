#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <conduit/sdk.hpp>

#include "jira_client.hpp"
#include "jira_settings.hpp"

namespace conduit::jira {

// ---- Reading smart commits ----

// One command of a smart commit, as Jira's own smart commits write them:
//   SOC-12 #comment <text>
//   SOC-12 #time 1w 2d 4h 30m <text>
//   SOC-12 #<transition> [<text>]
struct SmartCommand {
  enum class Kind { kComment, kTime, kTransition };
  Kind kind = Kind::kComment;
  // The issues it applies to: the keys on its line before the line's first command.
  std::vector<std::string> keys;
  std::string transition;  // kTransition: the name as written after `#` ("start-work")
  // kComment: the comment. kTime: the worklog's comment. kTransition: a comment added once the
  // transition is made (Jira's `#close Fixed this today`). Blanks around it dropped.
  std::string text;
  int64_t seconds = 0;  // kTime: the time spent
  // A command that cannot be applied as written (a malformed duration, an empty comment): why.
  // It fails for its keys without a request.
  std::string error;
};

struct SmartCommands {
  std::vector<SmartCommand> commands;  // in the order they are written
  bool truncated = false;              // past max_commands: the rest left out
};

// The commands more than this in one text (a commit message, a pull request's title and body)
// are left out: a text is anyone's, and each command costs requests to Jira.
inline constexpr size_t kMaxSmartCommandsPerText = 100;
// A transition's name as written longer than this is no command of Jira's (its names are at
// most 255 characters).
inline constexpr size_t kMaxTransitionNameBytes = 255;

// The smart commands of `text`, line by line. A command is `#` at the start of a line or after a
// blank, then a letter, then letters, digits, `-` or `_`, up to a blank or the line's end
// (`#123`, `C#`, `#done.` are none). Its text runs to the next command on the same line, or the
// line's end: a command never spans lines. `comment` and `time` are recognized ignoring case;
// any other name is a transition. A line's commands apply to the issue keys of the worker's
// projects on that line before its first command (`SOC-1 SOC-2 #done`, `Fix SOC-1: login #time
// 1h`), found as findIssueKeys finds them; a line without keys there has no commands.
// Time and memory are linear in the text's length, whatever its shape.
SmartCommands parseSmartCommands(std::string_view text, const std::set<std::string>& projects,
                                 JiraSettings::KeyCase key_case,
                                 size_t max_commands = kMaxSmartCommandsPerText);

// The time of `#time`'s argument: blank-separated durations from the start of `text`, each one
// or more <number><unit> (`1w 2d 4h 30m`, `1h30m`, `1.5h`), units w, d, h and m (any case) with
// Jira's defaults 1w = 5d, 1d = 8h; the first word that is not a duration starts the worklog's
// comment.
struct Duration {
  int64_t seconds = 0;
  size_t consumed = 0;  // the bytes of `text` the durations took, blanks after them included
  std::string error;    // no duration at the start, zero, or longer than kMaxWorklogSeconds
};
inline constexpr int64_t kMaxWorklogSeconds = 2147483647;  // what Jira keeps as a worklog's time
Duration parseDuration(std::string_view text);

// The transition `written` (a command's name: `done`, `start-work`) names among `available`:
// the one whose name equals it ignoring case, with `-` standing for a space; if none, as Jira
// reads only a transition name's first words, the one whose name starts with it followed by a
// space (`#start` for "Start work"). nullptr with `error` set when none or several match.
const Transition* matchTransition(std::string_view written,
                                  const std::vector<Transition>& available, std::string* error);

// ---- Applying them ----

// Applies the smart commits of a push (its commits' messages, oldest first) and of a merged pull
// request (its title and body): comments, worklogs and transitions, each once per command and
// issue across the delivery's attempts (checkpoints `smart:<commit>:<n>:<KEY>`), and a commit
// once per repository across deliveries (the host's claims, for checkpoint_ttl_hours).
// Transitions are made directly, outside the state machine, under the lease.
class SmartCommits {
 public:
  SmartCommits(const sdk::Host& host, JiraClient& client, const JiraSettings& settings,
               std::string worker, std::chrono::milliseconds lease_ttl,
               std::chrono::milliseconds lease_wait);

  struct Outcome {
    bool had_commands = false;  // the event held smart commands for the worker's issues
    // Some command could not be applied for now (Jira busy, a lost answer not checked, the
    // issue's lease held, Redis away): the delivery is to be retried; what was done is not
    // done again.
    std::vector<std::string> retries;
    std::chrono::milliseconds retry_after{0};
    // Jira refused the credentials (401, 403): nothing else is tried.
    std::optional<std::string> credentials_refused;
    size_t failed = 0;  // commands (per issue) that failed for good: reported, not retried
  };

  // Nothing unless smart_commits is on and the event is a push or a merged pull request.
  Outcome apply(const sdk::Event& event, sdk::Delivery& delivery);

  // One command for one issue, as apply() collects them: what to apply and where it comes from.
  struct Item {
    std::string unit;  // the commit id, or "pr-<number>": names its checkpoints
    size_t index = 0;  // the command's place among its commit's commands
    const SmartCommand* command = nullptr;
    std::string source;  // for people: "commit 1a2b3c4 (https://...) by alice on GitHub"
  };
  // Applies `items` (one issue's, in the order written: oldest commit first) to `key`. Keys are
  // independent of each other: this may run for several keys at once.
  Outcome applyToKey(const std::string& key, const std::vector<Item>& items,
                     const sdk::Event& event, sdk::Delivery& delivery);

 private:
  struct Step {
    enum class Kind { kDone, kFailed, kRetry, kCredentials };
    Kind kind = Kind::kDone;
    std::string message;
    std::chrono::milliseconds retry_after{0};
  };
  enum class Applied { kYes, kNo, kUnknown };

  Step applyItem(const std::string& key, const Item& item, const std::string& checkpoint,
                 const sdk::Event& event, sdk::Delivery& delivery);
  Step commentOnce(const std::string& key, const std::string& checkpoint, const std::string& text,
                   sdk::Delivery& delivery);
  Step worklogOnce(const std::string& key, const std::string& checkpoint, int64_t seconds,
                   const std::string& text, sdk::Delivery& delivery);
  Step transitionOnce(const std::string& key, const std::string& checkpoint,
                      const std::string& written, sdk::Delivery& delivery);
  Applied checkApplied(const std::string& key, const std::string& from,
                       const std::function<bool()>& keep_lease);
  Step fromFailure(const std::string& key, const JiraFailure& failure) const;
  std::string markerOf(const std::string& checkpoint) const;

  const sdk::Host& host_;
  JiraClient& client_;
  const JiraSettings& settings_;
  std::string worker_;
  std::chrono::milliseconds lease_ttl_;
  std::chrono::milliseconds lease_wait_;
};

}  // namespace conduit::jira
