#include "smart_commits.hpp"

#include <algorithm>
#include <thread>

#include "issue_keys.hpp"

namespace conduit::jira {
namespace {

// The keys one line names before its first command, at most: each is a request per command.
constexpr size_t kMaxKeysPerLine = 100;
// A duration's number: at most this many digits before its point, and after it.
constexpr size_t kMaxWholeDigits = 7;
constexpr size_t kMaxFractionDigits = 6;
constexpr int64_t kMicro = 1000000;

// As JiraProcessor: how often an answer lost after a transition is checked by reading the
// issue, and how often a transition Jira refused (400) is decided again.
constexpr int kMaxChecks = 4;
constexpr std::chrono::milliseconds kFirstCheckPause{100};
constexpr int kMaxDecisions = 3;
// Rounds of one command within an attempt, after a Retry-After short enough to sleep out.
constexpr int kMaxRounds = 3;

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}
bool isLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isNameChar(char c) {
  return isLetter(c) || isDigit(c) || c == '-' || c == '_';
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}
bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && isBlank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && isBlank(text.back()))
    text.remove_suffix(1);
  return text;
}

// The issue keys of `text`, as the rest of the plugin finds them (key_case included): the one
// place smart commits look keys up.
std::vector<std::string> keysIn(std::string_view text, const std::set<std::string>& projects,
                                JiraSettings::KeyCase key_case) {
  return findIssueKeys({text}, projects, kMaxKeysPerLine, key_case).keys;
}

// Where the command starting at `hash` of `line` ends its name, when one starts there.
std::optional<size_t> commandAt(std::string_view line, size_t hash) {
  if (hash > 0 && !isBlank(line[hash - 1])) return std::nullopt;
  if (hash + 1 >= line.size() || !isLetter(line[hash + 1])) return std::nullopt;
  size_t end = hash + 2;
  while (end < line.size() && isNameChar(line[end]))
    ++end;
  if (end < line.size() && !isBlank(line[end])) return std::nullopt;
  return end;
}

struct CommandSpan {
  size_t hash = std::string_view::npos;  // npos: none
  size_t name_end = 0;
};

// The first command of `line` at or after `from`. Each byte is looked at a bounded number of
// times: a failed name run holds no `#`, and the search goes on past it.
CommandSpan nextCommand(std::string_view line, size_t from) {
  for (size_t hash = line.find('#', from); hash != std::string_view::npos;
       hash = line.find('#', hash + 1)) {
    if (auto end = commandAt(line, hash)) return {hash, *end};
  }
  return {};
}

SmartCommand commandOf(std::string_view name, std::string_view text,
                       const std::vector<std::string>& keys) {
  SmartCommand command;
  command.keys = keys;
  if (equalsIgnoringCase(name, "comment")) {
    command.kind = SmartCommand::Kind::kComment;
    command.text = std::string(text);
    if (text.empty()) command.error = "#comment without a text";
  } else if (equalsIgnoringCase(name, "time")) {
    command.kind = SmartCommand::Kind::kTime;
    const Duration duration = parseDuration(text);
    if (!duration.error.empty()) {
      command.error = "#time " + duration.error;
    } else {
      command.seconds = duration.seconds;
      command.text = std::string(trim(text.substr(duration.consumed)));
    }
  } else {
    command.kind = SmartCommand::Kind::kTransition;
    command.text = std::string(text);
    if (name.size() > kMaxTransitionNameBytes) {
      command.transition = std::string(name.substr(0, 40)) + "...";
      command.error = "#" + command.transition + ": no transition has a name that long";
    } else {
      command.transition = std::string(name);
    }
  }
  return command;
}

// One word's duration ("1h30m", "1.5h"): its seconds, or nullopt when it is not one.
std::optional<int64_t> wordSeconds(std::string_view word) {
  if (word.empty()) return std::nullopt;
  int64_t total = 0;
  size_t at = 0;
  while (at < word.size()) {
    int64_t whole = 0;
    size_t digits = 0;
    for (; at < word.size() && isDigit(word[at]); ++at, ++digits) {
      if (digits == kMaxWholeDigits) return std::nullopt;
      whole = whole * 10 + (word[at] - '0');
    }
    if (digits == 0) return std::nullopt;
    int64_t fraction_micro = 0;
    if (at < word.size() && word[at] == '.') {
      ++at;
      int64_t scale = kMicro;
      size_t fraction_digits = 0;
      for (; at < word.size() && isDigit(word[at]); ++at, ++fraction_digits) {
        if (fraction_digits == kMaxFractionDigits) return std::nullopt;
        scale /= 10;
        fraction_micro += (word[at] - '0') * scale;
      }
      if (fraction_digits == 0) return std::nullopt;
    }
    if (at == word.size()) return std::nullopt;  // a number without its unit
    int64_t unit = 0;
    switch (lower(word[at])) {
      case 'w':
        unit = 5 * 8 * 3600;  // Jira's default: a week of 5 days
        break;
      case 'd':
        unit = 8 * 3600;  // of 8 hours
        break;
      case 'h':
        unit = 3600;
        break;
      case 'm':
        unit = 60;
        break;
      default:
        return std::nullopt;
    }
    ++at;
    // At most 10^13 micro-units times a week's seconds: within int64.
    total += ((whole * kMicro + fraction_micro) * unit + kMicro / 2) / kMicro;
    if (total > kMaxWorklogSeconds) return kMaxWorklogSeconds + 1;
  }
  return total;
}

// "Fixed the login" for the messages: a hostile text shown only so far.
std::string shown(std::string_view text) {
  constexpr size_t kMax = 40;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

// A message kept in a checkpoint: the host keeps values of at most 4096 bytes.
std::string forCheckpoint(std::string message) {
  constexpr size_t kMax = 1024;
  if (message.size() > kMax) message = message.substr(0, kMax) + "...";
  return message;
}

// "Start work -> In Progress, Stop work -> To Do"
std::string describe(const std::vector<Transition>& transitions) {
  if (transitions.empty()) return "none";
  std::string text;
  for (const auto& t : transitions)
    text += (text.empty() ? "" : ", ") + t.name + " -> " + t.to;
  return text;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

const char* nameOf(SmartCommand::Kind kind) {
  switch (kind) {
    case SmartCommand::Kind::kComment:
      return "#comment";
    case SmartCommand::Kind::kTime:
      return "#time";
    case SmartCommand::Kind::kTransition:
      break;
  }
  return "#transition";
}

}  // namespace

// ---- Reading ----

Duration parseDuration(std::string_view text) {
  Duration duration;
  size_t at = 0;
  bool any = false;
  while (true) {
    size_t start = at;
    while (start < text.size() && isBlank(text[start]))
      ++start;
    size_t end = start;
    while (end < text.size() && !isBlank(text[end]))
      ++end;
    const auto seconds = wordSeconds(text.substr(start, end - start));
    if (!seconds) break;
    any = true;
    duration.seconds += *seconds;
    if (duration.seconds > kMaxWorklogSeconds) {
      duration.error = "\"" + shown(trim(text.substr(0, end))) + "\": longer than Jira keeps";
      duration.seconds = 0;
      return duration;
    }
    at = end;
  }
  if (!any) {
    const std::string_view rest = trim(text);
    duration.error = "needs a duration first, such as \"1w 2d 4h 30m\" or \"1.5h\"" +
                     (rest.empty() ? std::string(": none given")
                                   : ", not \"" + shown(rest.substr(0, rest.find(' '))) + "\"");
    return duration;
  }
  if (duration.seconds == 0) {
    duration.error = "\"" + shown(trim(text.substr(0, at))) + "\": a worklog needs some time";
    return duration;
  }
  while (at < text.size() && isBlank(text[at]))
    ++at;
  duration.consumed = at;
  return duration;
}

SmartCommands parseSmartCommands(std::string_view text, const std::set<std::string>& projects,
                                 JiraSettings::KeyCase key_case, size_t max_commands) {
  SmartCommands found;
  size_t line_start = 0;
  while (line_start <= text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::string_view line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;

    CommandSpan command = nextCommand(line, 0);
    if (command.hash == std::string_view::npos) continue;
    // Jira ignores the text between the keys and the first command.
    const std::vector<std::string> keys = keysIn(line.substr(0, command.hash), projects, key_case);
    if (keys.empty()) continue;
    while (command.hash != std::string_view::npos) {
      const CommandSpan next = nextCommand(line, command.name_end);
      const size_t text_end = next.hash == std::string_view::npos ? line.size() : next.hash;
      if (found.commands.size() == max_commands) {
        found.truncated = true;
        return found;
      }
      found.commands.push_back(
          commandOf(line.substr(command.hash + 1, command.name_end - command.hash - 1),
                    trim(line.substr(command.name_end, text_end - command.name_end)), keys));
      command = next;
    }
  }
  return found;
}

const Transition* matchTransition(std::string_view written,
                                  const std::vector<Transition>& available, std::string* error) {
  // `-` stands for a space, and a name that holds a dash itself ("Re-open") is matched by it
  // too: both sides are compared with every dash read as a space.
  auto comparable = [](std::string_view name) {
    std::string text = lowered(name);
    std::replace(text.begin(), text.end(), '-', ' ');
    return text;
  };
  const std::string wanted = comparable(written);
  for (const auto& transition : available) {
    if (comparable(transition.name) == wanted) return &transition;
  }
  // Jira reads a transition's name up to its first blank: `#start` is "Start work", when no
  // other available transition starts with that word.
  std::vector<const Transition*> starting;
  for (const auto& transition : available) {
    if (startsWith(comparable(transition.name), wanted + " ")) starting.push_back(&transition);
  }
  if (starting.size() == 1) return starting.front();
  if (starting.empty()) {
    *error = "no transition \"" + std::string(written) +
             "\" is available (available: " + describe(available) + ")";
  } else {
    std::string names;
    for (const auto* transition : starting)
      names += (names.empty() ? "\"" : ", \"") + transition->name + "\"";
    *error = "\"" + std::string(written) + "\" could be any of " + names +
             ": write more of the name, with - for each space";
  }
  return nullptr;
}

// ---- Applying ----

SmartCommits::SmartCommits(const sdk::Host& host, JiraClient& client, const JiraSettings& settings,
                           std::string worker, std::chrono::milliseconds lease_ttl,
                           std::chrono::milliseconds lease_wait)
    : host_(host),
      client_(client),
      settings_(settings),
      worker_(std::move(worker)),
      lease_ttl_(lease_ttl),
      lease_wait_(lease_wait) {}

SmartCommits::Outcome SmartCommits::apply(const sdk::Event& event, sdk::Delivery& delivery) {
  Outcome outcome;
  const std::string_view kind = event.kind();
  if (!settings_.smart_commits || (kind != "push" && kind != "pull_request.merged")) {
    return outcome;
  }
  const std::string on = event.hostName().empty() ? "" : " on " + std::string(event.hostName());
  const std::string repo = std::string(event.provider()) + ":" + std::string(event.repoId());

  // Each text with its commands: a commit, or the pull request.
  struct Unit {
    std::string id;     // names its checkpoints
    std::string claim;  // names it across deliveries; "" for none
    std::string source;
    SmartCommands parsed;
  };
  std::vector<Unit> units;
  auto add = [&](Unit unit, std::string_view what) {
    if (unit.parsed.truncated) {
      host_.warn(std::string(what) + " holds more than " +
                 std::to_string(kMaxSmartCommandsPerText) +
                 " smart commit commands: only the first ones are applied");
      host_.count("jira.smart_commands_left_out");
      host_.report(delivery, "skipped",
                   {{"reason", std::string(what) + ": smart commit commands past the first " +
                                   std::to_string(kMaxSmartCommandsPerText) + " left out"}});
    }
    if (!unit.parsed.commands.empty()) units.push_back(std::move(unit));
  };
  if (kind == "push") {
    const auto commits = event.commits();
    for (size_t i = 0; i < commits.size(); ++i) {
      const auto& commit = commits[i];
      Unit unit;
      unit.parsed = parseSmartCommands(commit.message, settings_.projects, settings_.key_case);
      if (unit.parsed.commands.empty()) continue;
      // A host that sends no commit ids (older than ABI 1.3): the commit's place in the push
      // names it within the delivery, and it is not remembered across deliveries.
      unit.id = commit.id.empty() ? "commit-" + std::to_string(i) : std::string(commit.id);
      if (!commit.id.empty()) unit.claim = "smart:" + repo + ":" + unit.id;
      const std::string_view author = commit.author.empty() ? event.author() : commit.author;
      unit.source = (author.empty() ? std::string("someone") : std::string(author)) +
                    " in commit " + std::string(commit.id.substr(0, 12)) +
                    (commit.url.empty() ? "" : " (" + std::string(commit.url) + ")") + on;
      add(std::move(unit), "commit " + std::string(commit.id.substr(0, 12)));
    }
  } else {
    Unit unit;
    const std::string text = std::string(event.title()) + "\n" + std::string(event.body());
    unit.parsed = parseSmartCommands(text, settings_.projects, settings_.key_case);
    if (!unit.parsed.commands.empty()) {
      const std::string number(event.number());
      unit.id = "pr-" + (number.empty() ? std::string(event.deliveryId()) : number);
      if (!number.empty()) unit.claim = "smart:" + repo + ":pr-" + number;
      const std::string change =
          event.reference().empty() ? "pull request" : std::string(event.reference());
      unit.source =
          (event.author().empty() ? std::string("someone") : std::string(event.author())) + " in " +
          change + (event.url().empty() ? "" : " (" + std::string(event.url()) + ")") + on;
      add(std::move(unit), change);
    }
  }
  if (units.empty()) return outcome;
  outcome.had_commands = true;

  // A commit comes again in a later push (a rebase, a merge, a push to another branch): the
  // first delivery to claim it applies it, for checkpoint_ttl_hours. Not in a dry run, which
  // must not keep a real run from applying it.
  if (!settings_.dry_run && host_.hasClaims()) {
    for (auto& unit : units) {
      if (unit.claim.empty() || unit.claim.size() > 256) continue;
      sdk::Host::Claim claim;
      try {
        claim = host_.claim(delivery, unit.claim);
      } catch (const sdk::HostError& e) {
        outcome.retries.push_back(std::string("smart commits: ") + e.what());
        return outcome;
      }
      if (!claim.ours) {
        const std::string reason = unit.id.substr(0, 12) +
                                   ": its smart commit commands were applied by an earlier "
                                   "delivery (" +
                                   claim.owner + ")";
        host_.info(reason + "; not again");
        host_.count("jira.smart_commits_seen");
        host_.report(delivery, "skipped", {{"reason", reason}});
        unit.parsed.commands.clear();
      }
    }
  } else if (!settings_.dry_run) {
    host_.debug(
        "this conduit has no claims (ABI 1.4): smart commits are applied once per "
        "delivery, not once per commit");
  }

  // Per issue, in the order written (oldest commit first): each issue's commands in order, the
  // issues independent of each other. At most max_keys_per_event (command, issue) pairs.
  std::vector<std::string> order;
  std::map<std::string, std::vector<Item>> per_key;
  size_t pairs = 0, left_out = 0;
  for (const auto& unit : units) {
    for (size_t n = 0; n < unit.parsed.commands.size(); ++n) {
      const SmartCommand& command = unit.parsed.commands[n];
      for (const auto& key : command.keys) {
        if (pairs == settings_.max_keys_per_event) {
          ++left_out;
          continue;
        }
        ++pairs;
        auto& items = per_key[key];
        if (items.empty()) order.push_back(key);
        items.push_back({unit.id, n, &command, unit.source});
      }
    }
  }
  if (left_out > 0) {
    host_.warn(std::string(event.kind()) + " " + std::string(event.deliveryId()) + ": " +
               std::to_string(left_out) + " smart commit commands (per issue) past " +
               "max_keys_per_event left out");
    host_.count("jira.smart_commands_left_out", static_cast<int64_t>(left_out));
    host_.report(delivery, "skipped",
                 {{"reason", std::to_string(left_out) +
                                 " smart commit commands (per issue) past max_keys_per_event (" +
                                 std::to_string(settings_.max_keys_per_event) + ")"}});
  }

  for (const auto& key : order) {
    Outcome one = applyToKey(key, per_key[key], event, delivery);
    outcome.failed += one.failed;
    outcome.retry_after = std::max(outcome.retry_after, one.retry_after);
    outcome.retries.insert(outcome.retries.end(), one.retries.begin(), one.retries.end());
    if (one.credentials_refused) {
      // Every other call would be refused the same way.
      outcome.credentials_refused = one.credentials_refused;
      break;
    }
  }
  return outcome;
}

SmartCommits::Outcome SmartCommits::applyToKey(const std::string& key,
                                               const std::vector<Item>& items,
                                               const sdk::Event& event, sdk::Delivery& delivery) {
  Outcome outcome;
  // A transition to be retried holds back the key's later transitions in this attempt: `#start`
  // then `#finish` must not be tried as `#finish` alone.
  bool transitions_wait = false;
  for (const auto& item : items) {
    const SmartCommand& command = *item.command;
    const std::string checkpoint =
        "smart:" + item.unit + ":" + std::to_string(item.index) + ":" + key;
    const std::string what =
        key + ": " +
        (command.kind == SmartCommand::Kind::kTransition ? "#" + command.transition
                                                         : std::string(nameOf(command.kind))) +
        " (" + item.source + ")";
    const auto saved = delivery.get(checkpoint);
    if (saved && *saved == "done") continue;
    // Failed for good: not tried again by this delivery's retries; a replay (a first attempt
    // again) tries it again.
    if (saved && startsWith(*saved, "failed:") && event.attempt() > 1) {
      host_.report(delivery, "failed", {{"issue", key}, {"reason", saved->substr(7)}});
      ++outcome.failed;
      continue;
    }
    const bool transition = command.kind == SmartCommand::Kind::kTransition;
    if (transition && transitions_wait) {
      outcome.retries.push_back(what + ": waits for the issue's earlier transition");
      continue;
    }

    Step step;
    if (!command.error.empty()) {
      step = {Step::Kind::kFailed, key + ": " + command.error + " (" + item.source + ")", {}};
    } else if (settings_.dry_run) {
      const std::string would = transition ? "make the transition \"" + command.transition + "\""
                                : command.kind == SmartCommand::Kind::kTime
                                    ? "log " + std::to_string(command.seconds) + " s of work"
                                    : "comment \"" + shown(command.text) + "\"";
      host_.info("dry run: would " + would + " on " + key + " (" + item.source + ")");
      host_.report(delivery, "skipped", {{"issue", key}, {"reason", "dry run: would " + would}});
      continue;
    } else {
      // A short Retry-After is slept out (the next request waits for the site's not-before
      // time) rather than spending a retry of the delivery on it.
      for (int round = 1; round <= kMaxRounds; ++round) {
        step = applyItem(key, item, checkpoint, event, delivery);
        const bool short_wait = step.kind == Step::Kind::kRetry && step.retry_after.count() > 0 &&
                                step.retry_after <= client_.maxInProcessWait();
        if (!short_wait) break;
      }
    }

    switch (step.kind) {
      case Step::Kind::kDone:
        delivery.put(checkpoint, "done");
        break;
      case Step::Kind::kFailed: {
        const std::string message = forCheckpoint(step.message);
        delivery.put(checkpoint, "failed:" + message);
        host_.warn("smart commit not applied: " + message);
        host_.count("jira.smart_commands_failed");
        host_.report(delivery, "failed", {{"issue", key}, {"reason", message}});
        ++outcome.failed;
        break;
      }
      case Step::Kind::kRetry:
        outcome.retries.push_back(step.message);
        outcome.retry_after = std::max(outcome.retry_after, step.retry_after);
        if (transition) transitions_wait = true;
        break;
      case Step::Kind::kCredentials:
        host_.report(delivery, "failed", {{"issue", key}, {"reason", step.message}});
        outcome.credentials_refused = step.message;
        return outcome;
    }
  }
  return outcome;
}

SmartCommits::Step SmartCommits::applyItem(const std::string& key, const Item& item,
                                           const std::string& checkpoint, const sdk::Event& event,
                                           sdk::Delivery& delivery) {
  (void)event;
  const SmartCommand& command = *item.command;
  // Who wrote it, where: in each comment and worklog the command makes.
  const std::string signature = "\u2014 " + item.source;
  switch (command.kind) {
    case SmartCommand::Kind::kComment:
      return commentOnce(key, checkpoint, command.text + "\n\n" + signature, delivery);
    case SmartCommand::Kind::kTime:
      return worklogOnce(key, checkpoint, command.seconds,
                         (command.text.empty() ? "" : command.text + "\n\n") + signature, delivery);
    case SmartCommand::Kind::kTransition:
      break;
  }
  Step step = transitionOnce(key, checkpoint, command.transition, delivery);
  if (step.kind != Step::Kind::kDone || command.text.empty()) return step;
  // Jira's `#close Fixed this today`: the text after a transition is a comment.
  return commentOnce(key, checkpoint + ":comment", command.text + "\n\n" + signature, delivery);
}

std::string SmartCommits::markerOf(const std::string& checkpoint) const {
  // As the processor's own comments: ~text~ is small subscript in Jira's wiki markup; only
  // characters that mean nothing to it.
  std::string marker = "~conduit:";
  auto add = [&marker](std::string_view part) {
    for (char c : part.substr(0, 160)) {
      const bool plain = isLetter(c) || isDigit(c) || c == '-' || c == '_' || c == '.' || c == ':';
      marker += plain ? c : '_';
    }
  };
  add(worker_);
  marker += ':';
  add(checkpoint);
  return marker + "~";
}

SmartCommits::Step SmartCommits::commentOnce(const std::string& key, const std::string& checkpoint,
                                             const std::string& text, sdk::Delivery& delivery) {
  const std::string sending = checkpoint + ":sending";
  const std::string marker = markerOf(checkpoint);
  if (auto sent = delivery.get(sending); sent && !sent->empty()) {
    // An earlier attempt sent it: Jira may have added it though its answer was lost.
    auto answer = client_.comments(key);
    if (auto* failure = std::get_if<JiraFailure>(&answer)) return fromFailure(key, *failure);
    for (const auto& comment : std::get<std::vector<Comment>>(answer)) {
      if (comment.body.find(marker) != std::string::npos) {
        host_.info(key + ": the smart commit comment of an earlier attempt is there; not again");
        host_.report(delivery, "commented", {{"issue", key}});
        return {};
      }
    }
  }
  delivery.put(sending, "1");
  if (auto failure = client_.comment(key, text + "\n" + marker)) {
    // Refused with an answer: nothing was added, nothing to look for.
    if (!failure->ambiguous) delivery.put(sending, "");
    return fromFailure(key, *failure);
  }
  host_.info(key + ": commented (smart commit)");
  host_.count("jira.smart_comments");
  host_.report(delivery, "commented", {{"issue", key}});
  return {};
}

SmartCommits::Step SmartCommits::worklogOnce(const std::string& key, const std::string& checkpoint,
                                             int64_t seconds, const std::string& text,
                                             sdk::Delivery& delivery) {
  const std::string sending = checkpoint + ":sending";
  const std::string marker = markerOf(checkpoint);
  auto logged = [&] {
    host_.count("jira.worklogs");
    host_.report(delivery, "worklog", {{"issue", key}, {"seconds", seconds}});
    return Step{};
  };
  if (auto sent = delivery.get(sending); sent && !sent->empty()) {
    auto answer = client_.worklogs(key);
    if (auto* failure = std::get_if<JiraFailure>(&answer)) return fromFailure(key, *failure);
    for (const auto& worklog : std::get<std::vector<Worklog>>(answer)) {
      if (worklog.comment.find(marker) != std::string::npos) {
        host_.info(key + ": the worklog of an earlier attempt is there; not logged again");
        return logged();
      }
    }
  }
  delivery.put(sending, "1");
  if (auto failure = client_.worklog(key, seconds, text + "\n" + marker)) {
    if (!failure->ambiguous) delivery.put(sending, "");
    return fromFailure(key, *failure);
  }
  host_.info(key + ": logged " + std::to_string(seconds) + " s of work (smart commit)");
  return logged();
}

SmartCommits::Step SmartCommits::transitionOnce(const std::string& key,
                                                const std::string& checkpoint,
                                                const std::string& written,
                                                sdk::Delivery& delivery) {
  const std::string moved = checkpoint + ":moved";           // made; its comment may be to come
  const std::string from_checkpoint = checkpoint + ":from";  // sent from this status
  const std::string lease_checkpoint = "smart-lease:" + key;
  if (delivery.get(moved)) return {};

  // As JiraProcessor::moveIssue: one delivery at a time changes an issue's status, and an
  // earlier attempt's lease (its process died) is taken back while it lasts.
  std::optional<sdk::Lease> lease;
  try {
    if (auto saved = delivery.get(lease_checkpoint); saved && !saved->empty()) {
      lease = host_.resumeLease(key, *saved, lease_ttl_);
    }
    if (!lease) lease = host_.lease(key, lease_ttl_, lease_wait_);
  } catch (const sdk::HostError& e) {
    return {Step::Kind::kRetry, key + ": " + e.what(), {}};
  }
  if (!lease) {
    host_.count("jira.lease_busy");
    return {Step::Kind::kRetry,
            key + ": #" + written + ": another delivery is still moving it (waited " +
                std::to_string(lease_wait_.count()) + " ms for its lease)",
            {}};
  }
  delivery.put(lease_checkpoint, lease->token());
  auto keepLease = [&] { return lease->extend(lease_ttl_); };
  const Step lost{
      Step::Kind::kRetry, key + ": its lease expired (another delivery may be moving it)", {}};
  auto done = [&](const std::string& from, const std::string& to, const std::string& name) {
    delivery.put(moved, "1");
    host_.info(key + " moved from \"" + from + "\" to \"" + to + "\" (smart commit #" + written +
               ": transition \"" + name + "\")");
    host_.count("jira.smart_transitions");
    host_.report(delivery, "transitioned",
                 {{"issue", key}, {"transition", name}, {"from", from}, {"to", to}});
    return Step{};
  };

  for (int decision = 1;; ++decision) {
    if (!keepLease()) return lost;
    auto answer = client_.issue(key);
    if (auto* failure = std::get_if<JiraFailure>(&answer)) return fromFailure(key, *failure);
    const IssueState& issue = std::get<IssueState>(answer);

    // An earlier attempt sent the transition and could not tell whether Jira applied it: the
    // issue has left the status it was sent from (nobody else moves it under the lease) or not.
    if (auto from = delivery.get(from_checkpoint); from && !from->empty()) {
      if (!equalsIgnoringCase(issue.status, *from)) return done(*from, issue.status, written);
    }
    std::string error;
    const Transition* transition = matchTransition(written, issue.transitions, &error);
    if (transition == nullptr) {
      return {Step::Kind::kFailed,
              key + ": #" + written + " from \"" + issue.status + "\": " + error,
              {}};
    }
    if (!keepLease()) return lost;
    delivery.put(from_checkpoint, issue.status);
    auto failure = client_.transition(key, transition->id);
    const std::string to = transition->to.empty() ? "?" : transition->to;
    if (!failure) return done(issue.status, to, transition->name);
    if (failure->ambiguous) {
      switch (checkApplied(key, issue.status, keepLease)) {
        case Applied::kYes:
          return done(issue.status, to, transition->name);
        case Applied::kNo:
          delivery.put(from_checkpoint, "");
          break;
        case Applied::kUnknown:
          break;  // the recorded status decides on the next attempt
      }
      return fromFailure(key, *failure);
    }
    delivery.put(from_checkpoint, "");
    if (failure->kind == JiraFailure::Kind::kRejected && failure->status == 400 &&
        decision < kMaxDecisions) {
      // Moved by someone since it was read, perhaps: read it and match again. Refused every
      // time (a validator, a required field), it fails for good below.
      continue;
    }
    return fromFailure(key, *failure);
  }
}

SmartCommits::Applied SmartCommits::checkApplied(const std::string& key, const std::string& from,
                                                 const std::function<bool()>& keep_lease) {
  auto pause = kFirstCheckPause;
  for (int check = 1; check <= kMaxChecks; ++check) {
    if (check > 1) {
      std::this_thread::sleep_for(pause);
      pause *= 3;
    }
    if (!keep_lease()) break;
    auto answer = client_.issue(key);
    if (auto* state = std::get_if<IssueState>(&answer)) {
      return equalsIgnoringCase(state->status, from) ? Applied::kNo : Applied::kYes;
    }
    if (std::get<JiraFailure>(answer).kind != JiraFailure::Kind::kRetryLater) break;
  }
  return Applied::kUnknown;
}

SmartCommits::Step SmartCommits::fromFailure(const std::string& key,
                                             const JiraFailure& failure) const {
  switch (failure.kind) {
    case JiraFailure::Kind::kCredentials:
      return {Step::Kind::kCredentials, failure.message, {}};
    case JiraFailure::Kind::kRetryLater:
      host_.count("jira.retries");
      return {Step::Kind::kRetry, failure.message, failure.retry_after};
    case JiraFailure::Kind::kNotFound:
      return {Step::Kind::kFailed, key + ": no such issue (" + failure.message + ")", {}};
    case JiraFailure::Kind::kRejected:
      break;
  }
  return {Step::Kind::kFailed, failure.message, {}};
}

}  // namespace conduit::jira
