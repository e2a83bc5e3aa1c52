#include "app/deliveries_command.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidjson/document.h>

#include "app/cli.hpp"
#include "app/command_context.hpp"
#include "app/table_output.hpp"
#include "http/api_response.hpp"
#include "http/delivery_json.hpp"
#include "http/time_text.hpp"
#include "providers/registry.hpp"
#include "queue/delivery.hpp"
#include "queue/delivery_log.hpp"
#include "queue/redis_keys.hpp"
#include "store/hook.hpp"
#include "store/redis_pool.hpp"

namespace conduit::app {
namespace {

using queue::DeadLetter;
using queue::DeliveryKey;
using queue::DeliveryRecord;
using queue::DeliveryStatus;

// A listing asks the log for pages of at most this many (the API's cap) until --limit is met.
constexpr int kPageLimit = 500;
constexpr int kMaxLimit = 10000;
// ZSCAN and XRANGE batches when a bare delivery id is looked up.
constexpr std::string_view kScanCount = "1000";

// A bad command line: the message, then exit 2.
struct UsageError {
  std::string message;
};

// Something the command was asked to act on is not there (or could not be acted on): exit 1.
struct NotFound {
  std::string message;
};

std::string idText(const DeliveryKey& key) {
  return fmt::format("{}/{}/{}", key.provider, key.repo_id, key.delivery_id);
}

// ---- Reading the command line ----

// RFC 3339, Unix milliseconds, or a time ago: a whole number with s, m, h, d or w.
std::optional<int64_t> parseWhen(std::string_view text, int64_t now_ms) {
  if (text.size() >= 2) {
    int64_t unit_ms = 0;
    switch (text.back()) {
      case 's':
        unit_ms = 1000;
        break;
      case 'm':
        unit_ms = 60 * 1000;
        break;
      case 'h':
        unit_ms = 3600 * 1000;
        break;
      case 'd':
        unit_ms = 24 * 3600 * 1000;
        break;
      case 'w':
        unit_ms = 7 * 24 * 3600 * 1000;
        break;
      default:
        break;
    }
    int64_t amount = 0;
    const char* end = text.data() + text.size() - 1;
    auto [at, ec] = std::from_chars(text.data(), end, amount);
    if (unit_ms != 0 && ec == std::errc() && at == end) {
      // Past the epoch is no time a delivery was accepted at: a typo, not a filter.
      if (amount > now_ms / unit_ms) return std::nullopt;
      return now_ms - amount * unit_ms;
    }
  }
  return http::parseTime(text);
}

int64_t timeOption(const std::optional<std::string>& text, const char* name, int64_t now_ms) {
  if (!text) return 0;
  auto ms = parseWhen(*text, now_ms);
  if (!ms || *ms <= 0) {
    throw UsageError{fmt::format(
        "--{}: `{}` is not a time: give RFC 3339 (2026-12-05T14:02:03Z), Unix milliseconds, or "
        "a time ago such as 30m, 2h or 7d",
        name, *text)};
  }
  return *ms;
}

int limitOption(const std::optional<std::string>& text) {
  if (!text) return 50;
  int limit = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (ec != std::errc() || end != text->data() + text->size() || limit < 1 || limit > kMaxLimit) {
    throw UsageError{fmt::format("--limit: `{}` is not a number from 1 to {}", *text, kMaxLimit)};
  }
  return limit;
}

// 1 to 100 of A-Z a-z 0-9 . _ - : an event kind (pull_request.merged) or a worker's name.
bool isName(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

// An issue key as the Jira plugin reports them: a project key, a dash and a number (SOC-12).
bool isIssueKey(std::string_view s) {
  const size_t dash = s.rfind('-');
  if (s.size() > 64 || dash == 0 || dash == std::string_view::npos || dash + 1 == s.size()) {
    return false;
  }
  if (std::isalpha(static_cast<unsigned char>(s.front())) == 0) return false;
  const auto project = s.substr(0, dash);
  const auto number = s.substr(dash + 1);
  return std::all_of(
             project.begin(), project.end(),
             [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }) &&
         std::all_of(number.begin(), number.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

void checkProvider(std::string_view provider, std::string_view what) {
  if (providers::findProvider(provider) == nullptr) {
    throw UsageError{fmt::format("{}: unknown provider `{}`; known: {}", what, provider,
                                 fmt::join(providers::providerNames(), ", "))};
  }
}

// The filters of a listing or of a bulk replay; --limit only where it applies.
queue::DeliveryFilter readFilter(const DeliveriesOptions& o, int64_t now_ms) {
  queue::DeliveryFilter filter;
  if (o.status) {
    auto status = queue::parseStatus(*o.status);
    if (!status) {
      throw UsageError{fmt::format(
          "--status: `{}` is not one of queued, processing, retrying, done, dead, ignored",
          *o.status)};
    }
    filter.status = status;
  }
  if (o.provider) {
    checkProvider(*o.provider, "--provider");
    filter.provider = *o.provider;
  }
  if (o.repo_id) {
    if (!store::isValidRepoId(*o.repo_id)) {
      throw UsageError{"--repo: a repo id is 1 to 100 of the characters A-Z a-z 0-9 . _ -"};
    }
    filter.repo_id = *o.repo_id;
  }
  if (o.kind) {
    if (!isName(*o.kind)) {
      throw UsageError{
          fmt::format("--kind: `{}` is not an event kind such as pull_request.merged", *o.kind)};
    }
    filter.kind = *o.kind;
  }
  if (o.issue) {
    if (!isIssueKey(*o.issue)) {
      throw UsageError{fmt::format("--issue: `{}` is not an issue key such as SOC-12", *o.issue)};
    }
    filter.issue = *o.issue;
    std::transform(filter.issue.begin(), filter.issue.end(), filter.issue.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  if (o.worker) {
    if (!isName(*o.worker)) {
      throw UsageError{fmt::format("--worker: `{}` is not a worker's name", *o.worker)};
    }
    filter.worker = *o.worker;
  }
  filter.since_ms = timeOption(o.since, "since", now_ms);
  filter.until_ms = timeOption(o.until, "until", now_ms);
  if (filter.since_ms != 0 && filter.until_ms != 0 && filter.since_ms > filter.until_ms) {
    throw UsageError{"--since is later than --until"};
  }
  filter.limit = limitOption(o.limit);
  return filter;
}

// PROVIDER/REPO_ID/DELIVERY, checked; nullopt for a delivery id alone.
std::optional<DeliveryKey> parseFullId(const std::string& id) {
  const size_t first = id.find('/');
  if (first == std::string::npos) {
    if (!queue::isValidDeliveryId(id)) {
      throw UsageError{fmt::format(
          "`{}` is not a delivery: give PROVIDER/REPO_ID/DELIVERY, or the delivery id", id)};
    }
    return std::nullopt;
  }
  const size_t second = id.find('/', first + 1);
  if (second == std::string::npos) {
    throw UsageError{fmt::format("`{}` is not a delivery: give PROVIDER/REPO_ID/DELIVERY", id)};
  }
  DeliveryKey key{id.substr(0, first), id.substr(first + 1, second - first - 1),
                  id.substr(second + 1)};
  checkProvider(key.provider, fmt::format("`{}`", id));
  if (!store::isValidRepoId(key.repo_id) || !queue::isValidDeliveryId(key.delivery_id)) {
    throw UsageError{fmt::format("`{}` is not a delivery: give PROVIDER/REPO_ID/DELIVERY", id)};
  }
  return key;
}

// ---- Finding deliveries by their id alone ----

// provider::repo_id::delivery; neither provider nor repo id holds a colon, the delivery may.
std::optional<DeliveryKey> splitIdentity(std::string_view identity) {
  const size_t first = identity.find("::");
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = identity.find("::", first + 2);
  if (second == std::string_view::npos) return std::nullopt;
  return DeliveryKey{std::string(identity.substr(0, first)),
                     std::string(identity.substr(first + 2, second - first - 2)),
                     std::string(identity.substr(second + 2))};
}

// The deliveries of the log's index with this delivery id, any provider and repo.
std::vector<DeliveryKey> findInIndex(store::RedisPool& redis, const std::string& delivery_id) {
  // A delivery id holds none of the glob's special characters ([A-Za-z0-9._:-]).
  const std::string pattern = "*::" + delivery_id;
  std::vector<DeliveryKey> found;
  std::string cursor = "0";
  do {
    auto reply = redis.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
      return c.command(
          {"ZSCAN", queue::redis_keys::kLogIndex, cursor, "MATCH", pattern, "COUNT", kScanCount});
    });
    if (reply.elements.size() != 2) break;
    cursor = reply.elements[0].text;
    // Members and scores alternate.
    const auto& items = reply.elements[1].elements;
    for (size_t i = 0; i < items.size(); i += 2) {
      auto key = splitIdentity(items[i].text);
      if (key && key->delivery_id == delivery_id) found.push_back(std::move(*key));
    }
  } while (cursor != "0");
  return found;
}

// The deliveries of the dead-letter stream with this delivery id: dead letters outlive the
// delivery log's records.
std::vector<DeliveryKey> findInDeadLetters(store::RedisPool& redis,
                                           const std::string& delivery_id) {
  std::vector<DeliveryKey> found;
  std::string start = "-";
  for (;;) {
    auto reply = redis.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
      return c.command(
          {"XRANGE", queue::redis_keys::kDeadLetterStream, start, "+", "COUNT", kScanCount});
    });
    for (const auto& entry : reply.elements) {
      if (entry.elements.size() != 2) continue;
      DeliveryKey key;
      const auto& fields = entry.elements[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i].text == queue::redis_keys::entry::kProvider)
          key.provider = fields[i + 1].text;
        if (fields[i].text == queue::redis_keys::entry::kRepoId) key.repo_id = fields[i + 1].text;
        if (fields[i].text == queue::redis_keys::entry::kDelivery) {
          key.delivery_id = fields[i + 1].text;
        }
      }
      const bool seen = std::any_of(found.begin(), found.end(), [&](const DeliveryKey& k) {
        return k.provider == key.provider && k.repo_id == key.repo_id;
      });
      if (key.delivery_id == delivery_id && !seen) found.push_back(key);
    }
    if (reply.elements.size() < 1000 || reply.elements.empty()) break;
    // The next batch starts right after the last id read: "(" makes XRANGE's start exclusive.
    start = "(" + reply.elements.back().elements[0].text;
  }
  return found;
}

// The delivery an id names. A delivery id alone is looked up (in the dead letters too when
// `dead_letters`); none, or several, is NotFound (several are listed, to name one in full).
DeliveryKey resolve(store::RedisPool& redis, const std::string& id, bool dead_letters) {
  if (auto key = parseFullId(id)) return *key;
  auto found = findInIndex(redis, id);
  if (found.empty() && dead_letters) found = findInDeadLetters(redis, id);
  if (found.empty()) {
    throw NotFound{fmt::format("no delivery {} in the delivery log{}", id,
                               dead_letters ? " or the dead letters" : "")};
  }
  if (found.size() > 1) {
    std::vector<std::string> ids;
    for (const auto& key : found)
      ids.push_back("  " + idText(key));
    throw NotFound{fmt::format("{} names {} deliveries; give one in full:\n{}", id, found.size(),
                               fmt::join(ids, "\n"))};
  }
  return found.front();
}

// ---- JSON: the admin API's `data` (http/delivery_json.hpp writes both) ----

void printJson(const std::function<void(http::JsonWriter&)>& write) {
  rapidjson::StringBuffer buffer;
  http::JsonWriter w(buffer);
  write(w);
  fmt::print("{}\n", buffer.GetString());
}

void writeCursor(http::JsonWriter& w, const std::string& cursor) {
  w.Key("next_cursor");
  if (cursor.empty()) {
    w.Null();
  } else {
    http::writeString(w, cursor);
  }
}

// ---- Text, for people ----

Colour statusColour(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kDone:
      return Colour::kGreen;
    case DeliveryStatus::kDead:
      return Colour::kRed;
    case DeliveryStatus::kRetrying:
      return Colour::kYellow;
    case DeliveryStatus::kQueued:
    case DeliveryStatus::kProcessing:
      return Colour::kCyan;
    case DeliveryStatus::kIgnored:
      return Colour::kDim;
  }
  return Colour::kNone;
}

Colour outcomeColour(std::string_view outcome) {
  if (outcome == "ok") return Colour::kGreen;
  if (outcome == "retry") return Colour::kYellow;
  if (outcome == "failed") return Colour::kRed;
  return Colour::kNone;
}

// Long messages are cut in tables; `show` prints them whole.
std::string cut(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (++chars > max_chars) return std::string(text.substr(0, i)) + "...";
  }
  return std::string(text);
}

// One action as a line: `moved SOC-1: To Do -> In Progress (Start work)`,
// `skipped SOC-2: no machine for project SOC`, `ignored: pull request closed without merge`.
std::string describeAction(const std::string& action) {
  rapidjson::Document doc;
  doc.Parse(action.c_str(), action.size());
  if (doc.HasParseError() || !doc.IsObject()) return action;
  auto text = [&](const char* name) -> std::string {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) return "";
    if (it->value.IsString()) return {it->value.GetString(), it->value.GetStringLength()};
    if (it->value.IsNumber()) return fmt::format("{}", it->value.GetDouble());
    return "";
  };
  std::string line = text("action");
  if (auto issue = text("issue"); !issue.empty()) line += " " + issue;
  std::vector<std::string> rest;
  if (line.rfind("moved", 0) == 0 && doc.HasMember("from") && doc.HasMember("to")) {
    rest.push_back(fmt::format("{} -> {}", text("from"), text("to")));
    if (auto transition = text("transition"); !transition.empty()) {
      rest.back() += " (" + transition + ")";
    }
  } else {
    for (const auto& member : doc.GetObject()) {
      const std::string name(member.name.GetString(), member.name.GetStringLength());
      if (name == "action" || name == "issue") continue;
      const std::string value = text(name.c_str());
      rest.push_back(name == "reason" || name == "status" ? value : name + "=" + value);
    }
  }
  if (!rest.empty()) line += ": " + fmt::format("{}", fmt::join(rest, ", "));
  return line;
}

std::string describeStatus(const DeliveryRecord& r, int64_t now_ms) {
  std::string text(queue::statusName(r.status));
  if (!r.reason.empty()) text += ": " + r.reason;
  if (r.status == DeliveryStatus::kRetrying && r.next_attempt_ms > 0) {
    text += fmt::format(" (next attempt {})", relativeTime(r.next_attempt_ms, now_ms));
  }
  return text;
}

std::string whenText(int64_t at_ms, int64_t now_ms) {
  if (at_ms <= 0) return "-";
  return fmt::format("{} ({})", http::formatRfc3339(at_ms), relativeTime(at_ms, now_ms));
}

void printRecord(const DeliveryRecord& r, int64_t now_ms, bool colour) {
  const DeliveryKey key{r.provider, r.repo_id, r.delivery_id};
  auto row = [&](std::string_view name, const std::string& value) {
    fmt::print("{:<10} {}\n", paint(name, Colour::kDim, colour), value);
  };
  // The labels are padded before being painted, so that escapes do not count as width.
  auto label = [](std::string_view name) { return fmt::format("{:<9}", name); };
  row(label("delivery"), idText(key));
  row(label("repo"), r.repo_path.empty() ? r.repo_id : r.repo_path);
  row(label("event"), r.kind.empty() ? r.event : fmt::format("{} ({})", r.kind, r.event));
  row(label("status"), paint(describeStatus(r, now_ms), statusColour(r.status), colour));
  row(label("accepted"), whenText(r.accepted_at_ms, now_ms));
  row(label("updated"), whenText(r.updated_at_ms, now_ms));
  row(label("attempts"), fmt::format("{} (replayed {} times)", r.attempts, r.replays));
  row(label("entry"), r.entry_id);
  row(label("size"), fmt::format("{} bytes", r.size_bytes));
  row(label("issues"), r.issues.empty() ? "-" : fmt::format("{}", fmt::join(r.issues, " ")));
  for (const auto& worker : r.workers) {
    fmt::print("\nworker {}: {}{}\n", paint(worker.worker, Colour::kBold, colour),
               paint(worker.outcome.empty() ? "not yet" : worker.outcome,
                     outcomeColour(worker.outcome), colour),
               worker.message.empty() ? "" : ": " + worker.message);
    for (const auto& attempt : worker.attempts) {
      fmt::print("  attempt {}  {}{}\n", whenText(attempt.at_ms, now_ms),
                 paint(attempt.outcome, outcomeColour(attempt.outcome), colour),
                 attempt.message.empty() ? "" : ": " + attempt.message);
    }
    for (const auto& action : worker.actions)
      fmt::print("  - {}\n", describeAction(action));
  }
  if (r.payload) fmt::print("\npayload:\n{}\n", *r.payload);
}

// ---- The commands ----

struct Session {
  CommandSettings settings;
  store::RedisPool redis;
  queue::DeliveryLog log;

  explicit Session(CommandSettings s)
      : settings(std::move(s)),
        redis(settings.server.redis, std::chrono::milliseconds(settings.server.redis_timeout_ms)),
        // A replay keeps the record for delivery_log_hours from then, as the server would.
        log(redis, queue::LogSettings{std::chrono::hours(settings.server.delivery_log_hours),
                                      settings.server.delivery_log_max}) {}
};

int listDeliveries(const DeliveriesOptions& o, Session& s, int64_t now_ms) {
  auto filter = readFilter(o, now_ms);
  const int limit = filter.limit;
  std::vector<DeliveryRecord> records;
  std::string cursor;
  do {
    filter.limit = std::min(kPageLimit, limit - static_cast<int>(records.size()));
    auto page = s.log.list(filter);
    std::move(page.records.begin(), page.records.end(), std::back_inserter(records));
    cursor = page.next_cursor;
    filter.cursor = cursor;
  } while (!cursor.empty() && static_cast<int>(records.size()) < limit);

  if (o.json) {
    printJson([&](http::JsonWriter& w) {
      w.StartObject();
      w.Key("deliveries");
      w.StartArray();
      for (const auto& record : records)
        http::writeDeliveryRecord(w, record);
      w.EndArray();
      writeCursor(w, cursor);
      w.EndObject();
    });
    return kExitOk;
  }
  if (records.empty()) {
    fmt::print("no deliveries\n");
    return kExitOk;
  }
  const bool colour = colourWanted();
  Table table({"ACCEPTED", "STATUS", "REPO", "EVENT", "ISSUES", "ID"});
  for (const auto& r : records) {
    table.addRow({{relativeTime(r.accepted_at_ms, now_ms)},
                  {std::string(queue::statusName(r.status)), statusColour(r.status)},
                  {r.repo_path.empty() ? r.repo_id : r.repo_path},
                  {r.kind.empty() ? r.event : r.kind},
                  {r.issues.empty() ? "-" : fmt::format("{}", fmt::join(r.issues, " "))},
                  {idText({r.provider, r.repo_id, r.delivery_id})}});
  }
  fmt::print("{}", table.render(colour));
  if (!cursor.empty()) {
    fmt::print("{}\n", paint("older deliveries match too: --limit shows more, --until goes back",
                             Colour::kDim, colour));
  }
  return kExitOk;
}

int show(const DeliveriesOptions& o, Session& s, int64_t now_ms) {
  if (o.ids.size() != 1) throw UsageError{"show takes one delivery id"};
  const auto key = resolve(s.redis, o.ids.front(), /*dead_letters=*/false);
  auto record = s.log.find(key, o.payload);
  if (!record) throw NotFound{fmt::format("no delivery {} in the delivery log", idText(key))};
  if (o.json) {
    printJson([&](http::JsonWriter& w) { http::writeDeliveryRecord(w, *record); });
  } else {
    printRecord(*record, now_ms, colourWanted());
  }
  return kExitOk;
}

int replay(const DeliveriesOptions& o, Session& s) {
  if (o.ids.empty()) throw UsageError{"replay needs the id of at least one delivery"};
  // Every id is checked before anything is put back.
  for (const auto& id : o.ids)
    parseFullId(id);
  int status = kExitOk;
  for (const auto& id : o.ids) {
    try {
      const auto key = resolve(s.redis, id, /*dead_letters=*/false);
      const auto result = s.log.replay(key, o.force);
      switch (result.outcome) {
        case queue::ReplayOutcome::kQueued:
          fmt::print("replayed {} as entry {}\n", idText(key), result.entry_id);
          break;
        case queue::ReplayOutcome::kNotFound:
          throw NotFound{fmt::format("no delivery {} in the delivery log", idText(key))};
        case queue::ReplayOutcome::kNotFailed:
          throw NotFound{fmt::format(
              "{} ended well: not replayed (--force replays it; its workers run again, and "
              "their checkpoints keep them from doing twice what they did)",
              idText(key))};
        case queue::ReplayOutcome::kInProgress:
          throw NotFound{
              fmt::format("{} is still queued, processing or retrying: not replayed", idText(key))};
      }
    } catch (const NotFound& e) {
      fmt::print(stderr, "conduit deliveries: {}\n", e.message);
      status = kExitFailure;
    }
  }
  return status;
}

std::vector<DeadLetter> allDeadLetters(Session& s, queue::DeliveryFilter filter, int limit,
                                       std::string& cursor) {
  std::vector<DeadLetter> letters;
  do {
    filter.limit = std::min(kPageLimit, limit - static_cast<int>(letters.size()));
    auto page = s.log.listDeadLetters(filter);
    std::move(page.letters.begin(), page.letters.end(), std::back_inserter(letters));
    cursor = page.next_cursor;
    filter.cursor = cursor;
  } while (!cursor.empty() && static_cast<int>(letters.size()) < limit);
  return letters;
}

int listDeadLetters(const DeliveriesOptions& o, Session& s, int64_t now_ms) {
  auto filter = readFilter(o, now_ms);
  std::string cursor;
  auto letters = allDeadLetters(s, filter, filter.limit, cursor);
  if (o.json) {
    printJson([&](http::JsonWriter& w) {
      w.StartObject();
      w.Key("dead_letters");
      w.StartArray();
      for (const auto& letter : letters)
        http::writeDeadLetter(w, letter);
      w.EndArray();
      writeCursor(w, cursor);
      w.EndObject();
    });
    return kExitOk;
  }
  if (letters.empty()) {
    fmt::print("no dead letters\n");
    return kExitOk;
  }
  const bool colour = colourWanted();
  Table table({"FAILED", "WORKER", "REPO", "EVENT", "ATTEMPTS", "ERROR", "ID"});
  for (const auto& d : letters) {
    table.addRow({{relativeTime(d.failed_at_ms, now_ms)},
                  {d.worker},
                  {d.repo_path.empty() ? d.key.repo_id : d.repo_path},
                  {d.event},
                  {std::to_string(d.attempts)},
                  {cut(d.error, 60), Colour::kRed},
                  {idText(d.key)}});
  }
  fmt::print("{}", table.render(colour));
  if (!cursor.empty()) {
    fmt::print("{}\n",
               paint("older dead letters match too: --limit shows more", Colour::kDim, colour));
  }
  return kExitOk;
}

int replayDeadLetters(const DeliveriesOptions& o, Session& s, int64_t now_ms) {
  if (!o.ids.empty()) {
    int status = kExitOk;
    for (const auto& id : o.ids) {
      try {
        const auto key = resolve(s.redis, id, /*dead_letters=*/true);
        queue::DeadLetterSelection selection;
        selection.deliveries.push_back(key);
        if (s.log.replayDeadLetters(selection) == 0) {
          throw NotFound{fmt::format("no dead letter of {}", idText(key))};
        }
        fmt::print("replayed {}\n", idText(key));
      } catch (const NotFound& e) {
        fmt::print(stderr, "conduit dead-letters: {}\n", e.message);
        status = kExitFailure;
      }
    }
    return status;
  }
  queue::DeadLetterSelection selection;
  selection.filter = readFilter(o, now_ms);
  const int replayed = s.log.replayDeadLetters(selection);
  fmt::print("put {} {} back on the queue\n", replayed, replayed == 1 ? "delivery" : "deliveries");
  return kExitOk;
}

int purge(const DeliveriesOptions& o, Session& s) {
  std::vector<DeliveryKey> keys;
  if (o.all) {
    std::string cursor;
    for (const auto& letter : allDeadLetters(s, {}, std::numeric_limits<int>::max(), cursor)) {
      const bool seen = std::any_of(keys.begin(), keys.end(), [&](const DeliveryKey& k) {
        return k.provider == letter.key.provider && k.repo_id == letter.key.repo_id &&
               k.delivery_id == letter.key.delivery_id;
      });
      if (!seen) keys.push_back(letter.key);
    }
    if (keys.empty()) {
      fmt::print("no dead letters\n");
      return kExitOk;
    }
  }
  int status = kExitOk;
  for (const auto& id : o.ids) {
    try {
      keys.push_back(resolve(s.redis, id, /*dead_letters=*/true));
    } catch (const NotFound& e) {
      fmt::print(stderr, "conduit dead-letters: {}\n", e.message);
      status = kExitFailure;
    }
  }
  if (keys.empty()) return status;
  if (!o.yes) {
    fmt::print(stderr,
               "Discard the dead letters of {} {} for good? They cannot be replayed "
               "after. [y/N] ",
               keys.size(), keys.size() == 1 ? "delivery" : "deliveries");
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      fmt::print(stderr, "nothing discarded\n");
      return kExitFailure;
    }
  }
  int discarded = 0;
  for (const auto& key : keys) {
    if (s.log.discardDeadLetters(key)) {
      ++discarded;
    } else {
      fmt::print(stderr, "conduit dead-letters: no dead letter of {}\n", idText(key));
      status = kExitFailure;
    }
  }
  fmt::print("discarded the dead letters of {} {}\n", discarded,
             discarded == 1 ? "delivery" : "deliveries");
  return status;
}

// Runs `action` on a session, turning the command's own errors into exit statuses.
int runCommand(std::string_view command, const DeliveriesOptions& o,
               int (*check)(const DeliveriesOptions&),
               const std::function<int(Session&, int64_t)>& action) {
  try {
    if (int status = check(o); status != kExitOk) return status;
  } catch (const UsageError& e) {
    fmt::print(stderr, "conduit {} {}: {}\nRun `conduit help` for usage.\n", command, o.action,
               e.message);
    return kExitUsageOrConfig;
  }
  auto settings = readCommandSettings(o.config_path);
  if (!settings) return kExitUsageOrConfig;
  Session session(std::move(*settings));
  try {
    return action(session, queue::unixTimeMs());
  } catch (const UsageError& e) {
    fmt::print(stderr, "conduit {} {}: {}\nRun `conduit help` for usage.\n", command, o.action,
               e.message);
    return kExitUsageOrConfig;
  } catch (const NotFound& e) {
    fmt::print(stderr, "conduit {}: {}\n", command, e.message);
    return kExitFailure;
  } catch (const store::RedisUnavailable& e) {
    return redisFailed(command, session.settings, e);
  } catch (const store::RedisError& e) {
    return redisFailed(command, session.settings, e);
  }
}

// What can be checked before Redis is asked anything: the values of the options and the ids.
int checkDeliveries(const DeliveriesOptions& o) {
  readFilter(o, queue::unixTimeMs());
  for (const auto& id : o.ids)
    parseFullId(id);
  return kExitOk;
}

int checkDeadLetters(const DeliveriesOptions& o) {
  checkDeliveries(o);
  if (o.action == "replay") {
    const bool by_filter = o.since.has_value();
    const int modes = (o.ids.empty() ? 0 : 1) + (o.all ? 1 : 0) + (by_filter ? 1 : 0);
    if (modes != 1) throw UsageError{"replay takes ids, --all, or --since (one of them)"};
    if (o.until && !by_filter) throw UsageError{"--until goes with --since"};
    if (!o.ids.empty() && (o.repo_id || o.provider || o.worker)) {
      throw UsageError{"--repo, --provider and --worker go with --all or --since, not with ids"};
    }
  }
  if (o.action == "purge") {
    if (o.ids.empty() == !o.all) throw UsageError{"purge takes ids, or --all (one of them)"};
    if (!o.yes && !inputIsTerminal()) {
      throw UsageError{
          "purge discards dead letters for good, and there is no terminal to ask on: add --yes"};
    }
  }
  return kExitOk;
}

}  // namespace

int deliveries(const DeliveriesOptions& o) {
  return runCommand("deliveries", o, checkDeliveries, [&](Session& s, int64_t now_ms) {
    if (o.action == "list") return listDeliveries(o, s, now_ms);
    if (o.action == "show") return show(o, s, now_ms);
    return replay(o, s);
  });
}

int deadLetters(const DeliveriesOptions& o) {
  return runCommand("dead-letters", o, checkDeadLetters, [&](Session& s, int64_t now_ms) {
    if (o.action == "list") return listDeadLetters(o, s, now_ms);
    if (o.action == "replay") return replayDeadLetters(o, s, now_ms);
    return purge(o, s);
  });
}

}  // namespace conduit::app
