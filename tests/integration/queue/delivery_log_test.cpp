// The delivery log against a real Redis: written at enqueue, read, trimmed, replayed and updated
// as the worker would.
#include "queue/delivery_log.hpp"

#include <set>
#include <stdexcept>

#include <doctest/doctest.h>

#include "queue/delivery_consumer.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"

using conduit::queue::DeadLetterSelection;
using conduit::queue::decideLoggedStatus;
using conduit::queue::DeliveryConsumer;
using conduit::queue::DeliveryFilter;
using conduit::queue::DeliveryKey;
using conduit::queue::DeliveryLog;
using conduit::queue::DeliveryQueue;
using conduit::queue::DeliveryStatus;
using conduit::queue::FailedWorker;
using conduit::queue::LogSettings;
using conduit::queue::QueueNames;
using conduit::queue::ReplayOutcome;
using conduit::queue::WorkerAttempt;
using conduit::queue::WorkerRecord;
using conduit::store::RedisConnection;
using conduit::store::RedisPool;
using conduit::testing::RedisServer;
using std::chrono::milliseconds;

namespace {

constexpr int64_t kT0 = 1796479323000;  // 2026-12-05T14:02:03Z
constexpr int64_t kHourMs = 3600 * 1000;
const char* const kPayload = R"({"action":"closed","pull_request":{"merged":true}})";

struct Log {
  explicit Log(LogSettings log_settings = {}) : settings(log_settings) {}

  RedisServer redis;
  RedisPool pool{redis.endpoint(), std::chrono::seconds(2)};
  RedisConnection direct{redis.endpoint(), std::chrono::seconds(2)};
  LogSettings settings;
  DeliveryQueue queue{pool, settings};
  DeliveryLog log{pool, settings};

  std::string enqueue(const std::string& id, int64_t at_ms, const std::string& repo = "svc",
                      const std::string& provider = "github") {
    const std::string repo_path = "org/" + repo;  // Delivery holds views: kept alive here
    conduit::queue::Delivery delivery;
    delivery.provider = provider;
    delivery.repo_id = repo;
    delivery.repo_path = repo_path;
    delivery.event = "pull_request";
    delivery.delivery_id = id;
    delivery.received_at_ms = at_ms;
    delivery.payload = kPayload;
    return queue.enqueue(delivery).entry_id;
  }

  std::map<std::string, std::string> record(const std::string& id,
                                            const std::string& repo = "svc") {
    auto reply = direct.command({"HGETALL", "conduit::log::github::" + repo + "::" + id});
    std::map<std::string, std::string> fields;
    for (size_t i = 0; i + 1 < reply.elements.size(); i += 2)
      fields[reply.elements[i].text] = reply.elements[i + 1].text;
    return fields;
  }

  bool exists(const std::string& key) { return direct.command({"EXISTS", key}).integer == 1; }

  // Takes the entry off the queue as a worker that gave up on `failed` would: a dead letter
  // per failed worker, and the record updated to dead (jira having ended ok).
  void killDelivery(const std::string& id, const std::string& entry,
                    const std::vector<std::string>& failed = {"audit"},
                    const std::string& repo = "svc") {
    DeliveryConsumer consumer(pool, "host:1");
    RedisConnection blocking(redis.endpoint(), std::chrono::seconds(3));
    consumer.readNew(blocking, 100, milliseconds(50));
    std::vector<FailedWorker> letters;
    std::vector<WorkerRecord> answers = {
        {"jira", "ok", "", {}, {R"({"action":"moved","issue":"SOC-1","from":"To Do"})"}}};
    for (const auto& worker : failed) {
      letters.push_back({worker, "no such project"});
      answers.push_back({worker, "failed", "no such project", {}, {}});
    }
    REQUIRE(consumer.finish(entry, letters, 3, {}));
    log.attemptEnded({"github", repo, id}, entry, answers, DeliveryStatus::kDead,
                     "audit: no such project", 0);
  }

  std::vector<std::string> listIds(DeliveryFilter filter) {
    std::vector<std::string> ids;
    for (const auto& record : log.list(filter).records)
      ids.push_back(record.delivery_id);
    return ids;
  }
};

DeliveryKey key(const std::string& id, const std::string& repo = "svc") {
  return {"github", repo, id};
}

}  // namespace

TEST_CASE("delivery log: enqueue writes the record with the entry - a duplicate writes nothing") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  auto fields = l.record("d-1");
  CHECK(fields["provider"] == "github");
  CHECK(fields["repo_id"] == "svc");
  CHECK(fields["repo_path"] == "org/svc");
  CHECK(fields["event"] == "pull_request");
  CHECK(fields["kind"] == "");
  CHECK(fields["delivery"] == "d-1");
  CHECK(fields["entry"] == entry);
  CHECK(fields["size"] == std::to_string(std::string(kPayload).size()));
  CHECK(fields["accepted_at_ms"] == std::to_string(kT0));
  CHECK(fields["updated_at_ms"] == std::to_string(kT0));
  CHECK(fields["status"] == "queued");
  CHECK(fields["reason"] == "");
  CHECK(fields["next_attempt_ms"] == "0");
  CHECK(fields["attempts"] == "0");
  CHECK(fields["replays"] == "0");
  CHECK(fields["issues"] == "");
  // The payload stays in the entry while the delivery is queued, read from there when asked for.
  CHECK(fields.count("payload") == 0);
  CHECK(l.log.find(key("d-1"), true)->payload == std::optional<std::string>(kPayload));
  const auto ttl = l.direct.command({"TTL", "conduit::log::github::svc::d-1"}).integer;
  CHECK(ttl > 168 * 3600 - 60);
  CHECK(ttl <= 168 * 3600);
  CHECK(l.direct.command({"ZSCORE", "conduit::log::index", "github::svc::d-1"}).text ==
        std::to_string(kT0));

  // A duplicate changes nothing, not even a record someone changed meanwhile.
  l.direct.command({"HSET", "conduit::log::github::svc::d-1", "status", "done"});
  l.enqueue("d-1", kT0 + 5000);
  CHECK(l.record("d-1")["status"] == "done");
  CHECK(l.record("d-1")["accepted_at_ms"] == std::to_string(kT0));
  CHECK(l.direct.command({"ZCARD", "conduit::log::index"}).integer == 1);

  // Accepted again once its id was forgotten: a new record, nothing left of the old one.
  l.direct.command({"HSET", "conduit::log::github::svc::d-1", "worker::jira", "{}"});
  l.direct.command({"DEL", QueueNames::seenKey("github", "svc", "d-1")});
  const std::string again = l.enqueue("d-1", kT0 + 9000);
  CHECK(l.record("d-1")["entry"] == again);
  CHECK(l.record("d-1")["status"] == "queued");
  CHECK(l.record("d-1").count("worker::jira") == 0);
}

TEST_CASE("delivery log: records older than delivery_log_hours are dropped at the next enqueue") {
  Log l(LogSettings{std::chrono::hours(1), 1000});
  l.enqueue("d-1", kT0);
  l.enqueue("d-2", kT0 + 30 * 60 * 1000);
  l.direct.command({"ZADD", "conduit::log::issue::SOC-1", std::to_string(kT0), "github::svc::d-1"});
  CHECK(l.exists("conduit::log::github::svc::d-1"));
  l.enqueue("d-3", kT0 + 90 * 60 * 1000);  // d-1 is now 90 minutes old, d-2 60
  CHECK_FALSE(l.exists("conduit::log::github::svc::d-1"));
  CHECK(l.exists("conduit::log::github::svc::d-2"));
  CHECK(l.exists("conduit::log::github::svc::d-3"));
  CHECK(l.direct.command({"ZCARD", "conduit::log::index"}).integer == 2);
  // The issue index forgets it when next read.
  DeliveryFilter filter;
  filter.issue = "SOC-1";
  CHECK(l.log.list(filter).records.empty());
  CHECK(l.direct.command({"ZCARD", "conduit::log::issue::SOC-1"}).integer == 0);
}

TEST_CASE("delivery log: past delivery_log_max the oldest go - at most 100 per enqueue") {
  Log l(LogSettings{std::chrono::hours(168), 3});
  for (int i = 1; i <= 5; ++i)
    l.enqueue("d-" + std::to_string(i), kT0 + i);
  CHECK(l.direct.command({"ZCARD", "conduit::log::index"}).integer == 3);
  CHECK_FALSE(l.exists("conduit::log::github::svc::d-1"));
  CHECK_FALSE(l.exists("conduit::log::github::svc::d-2"));
  CHECK(l.exists("conduit::log::github::svc::d-3"));
  CHECK(l.exists("conduit::log::github::svc::d-5"));

  // A lower bound set on a large log: each enqueue trims 100 at most, so that no delivery pays
  // for the whole backlog.
  Log big(LogSettings{std::chrono::hours(168), 1000});
  for (int i = 0; i < 150; ++i)
    big.enqueue("b-" + std::to_string(i), kT0 + i);
  DeliveryQueue strict(big.pool, LogSettings{std::chrono::hours(168), 1});
  conduit::queue::Delivery delivery{"github", "svc", "org/svc", "push", "b-new", kT0 + 1000, "{}"};
  strict.enqueue(delivery);
  CHECK(big.direct.command({"ZCARD", "conduit::log::index"}).integer == 51);
  strict.enqueue({"github", "svc", "org/svc", "push", "b-newer", kT0 + 2000, "{}"});
  CHECK(big.direct.command({"ZCARD", "conduit::log::index"}).integer == 1);
  CHECK(big.exists("conduit::log::github::svc::b-newer"));
}

TEST_CASE("delivery log: list filters by provider, repo, status, kind and time") {
  Log l;
  const std::string e1 = l.enqueue("d-1", kT0 + 1000, "svc");
  l.enqueue("d-2", kT0 + 2000, "web");
  const std::string e3 = l.enqueue("d-3", kT0 + 3000, "svc");
  l.enqueue("d-4", kT0 + 4000, "svc", "gitlab");
  l.log.attemptStarted(key("d-1"), e1, 1, "pull_request.merged");
  l.log.attemptStarted(key("d-3"), e3, 1, "pull_request.opened");
  l.log.attemptEnded(key("d-3"), e3, {{"jira", "ok", "", {}, {}}}, DeliveryStatus::kDone, "", 0);

  CHECK(l.listIds({}) == std::vector<std::string>{"d-4", "d-3", "d-2", "d-1"});
  DeliveryFilter filter;
  filter.provider = "github";
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-3", "d-2", "d-1"});
  filter.repo_id = "svc";
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-3", "d-1"});
  filter.status = DeliveryStatus::kProcessing;
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-1"});
  filter.status = DeliveryStatus::kDone;
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-3"});
  filter = {};
  filter.kind = "pull_request.merged";
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-1"});
  filter = {};
  filter.since_ms = kT0 + 2000;
  filter.until_ms = kT0 + 3000;  // both inclusive
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-3", "d-2"});
  filter.repo_id = "nope";
  auto page = l.log.list(filter);
  CHECK(page.records.empty());
  CHECK(page.next_cursor.empty());

  // A listing carries the workers, never the payload.
  filter = {};
  filter.status = DeliveryStatus::kDone;
  auto done = l.log.list(filter).records;
  REQUIRE(done.size() == 1);
  CHECK(done[0].kind == "pull_request.opened");
  CHECK(done[0].attempts == 1);
  REQUIRE(done[0].workers.size() == 1);
  CHECK(done[0].workers[0].worker == "jira");
  CHECK_FALSE(done[0].payload.has_value());
}

TEST_CASE("delivery log: the cursor pages through every record once - ties included") {
  Log l;
  std::vector<std::string> expected;
  for (int i = 0; i < 9; ++i) {
    // Three deliveries accepted in each millisecond.
    l.enqueue("d-" + std::to_string(i), kT0 + i / 3);
  }
  DeliveryFilter filter;
  filter.limit = 2;
  std::vector<std::string> seen;
  int pages = 0;
  do {
    auto page = l.log.list(filter);
    CHECK(page.records.size() <= 2);
    for (const auto& record : page.records)
      seen.push_back(record.delivery_id);
    filter.cursor = page.next_cursor;
    ++pages;
  } while (!filter.cursor.empty() && pages < 20);
  REQUIRE(seen.size() == 9);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 9);
  // Newest first: the last millisecond's three before the others.
  CHECK(std::set<std::string>(seen.begin(), seen.begin() + 3) ==
        std::set<std::string>{"d-6", "d-7", "d-8"});
  CHECK(std::set<std::string>(seen.end() - 3, seen.end()) ==
        std::set<std::string>{"d-0", "d-1", "d-2"});

  // An `until` below the cursor's time wins over it.
  filter = {};
  filter.limit = 1;
  filter.cursor = l.log.list(filter).next_cursor;
  filter.until_ms = kT0;
  auto page = l.log.list(filter);
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].accepted_at_ms == kT0);

  for (const char* bad : {"nonsense", "12:", ":x", "1a:github::svc::d-1"}) {
    filter.cursor = bad;
    CHECK_THROWS_AS(l.log.list(filter), std::invalid_argument);
  }
}

TEST_CASE("delivery log: a listing looks at a bounded number of records - and goes on from there") {
  Log l;
  l.enqueue("old", kT0, "needle");
  for (int i = 0; i < 2100; ++i)
    l.enqueue("d-" + std::to_string(i), kT0 + 1 + i);
  DeliveryFilter filter;
  filter.repo_id = "needle";
  auto first = l.log.list(filter);
  CHECK(first.records.empty());
  REQUIRE_FALSE(first.next_cursor.empty());
  filter.cursor = first.next_cursor;
  auto second = l.log.list(filter);
  REQUIRE(second.records.size() == 1);
  CHECK(second.records[0].delivery_id == "old");
  CHECK(second.next_cursor.empty());
}

TEST_CASE("delivery log: an expired record is skipped and leaves the index") {
  Log l;
  l.enqueue("d-1", kT0);
  l.enqueue("d-2", kT0 + 1);
  l.direct.command({"DEL", "conduit::log::github::svc::d-1"});  // as its expiry would
  CHECK(l.listIds({}) == std::vector<std::string>{"d-2"});
  CHECK(l.direct.command({"ZSCORE", "conduit::log::index", "github::svc::d-1"}).isNil());
}

TEST_CASE("delivery log: the issue filter finds the deliveries whose actions named the key") {
  Log l;
  const std::string e1 = l.enqueue("d-1", kT0);
  const std::string e2 = l.enqueue("d-2", kT0 + 1);
  l.enqueue("d-3", kT0 + 2);
  l.log.attemptEnded(key("d-1"), e1,
                     {{"jira",
                       "ok",
                       "",
                       {},
                       {R"({"action":"moved","issue":"soc-1","from":"To Do"})",
                        R"({"action":"commented","issue":"SOC-2"})"}}},
                     DeliveryStatus::kDone, "", 0);
  l.log.attemptEnded(key("d-2"), e2,
                     {{"jira", "ok", "", {}, {R"({"action":"already_there","issue":"SOC-1"})"}}},
                     DeliveryStatus::kDone, "", 0);
  DeliveryFilter filter;
  filter.issue = "soc-1";
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-2", "d-1"});
  filter.issue = "SOC-2";
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-1"});
  filter.repo_id = "other";
  CHECK(l.listIds(filter).empty());
  filter = {};
  filter.issue = "SOC-9";
  CHECK(l.listIds(filter).empty());

  CHECK(l.record("d-1")["issues"] == "SOC-1 SOC-2");
  const auto ttl = l.direct.command({"TTL", "conduit::log::issue::SOC-1"}).integer;
  CHECK(ttl > 168 * 3600 - 60);
  CHECK(l.direct.command({"ZSCORE", "conduit::log::issue::SOC-2", "github::svc::d-1"}).text ==
        std::to_string(kT0));
}

TEST_CASE("delivery log: a busy issue's set drops members past the log's bounds") {
  LogSettings settings;
  settings.max_records = 150;
  Log l(settings);
  // Left from deliveries long gone (trimmed from the index, their records expired): the set
  // lived on because SOC-1 kept being named.
  const std::string set = "conduit::log::issue::SOC-1";
  const int64_t long_ago = conduit::queue::unixTimeMs() - 200 * kHourMs;
  for (int i = 0; i < 250; ++i)
    l.direct.command(
        {"ZADD", set, std::to_string(long_ago + i), "github::svc::old-" + std::to_string(i)});
  const int64_t now = conduit::queue::unixTimeMs();
  const std::string entry = l.enqueue("d-1", now);
  l.log.attemptEnded(key("d-1"), entry,
                     {{"jira", "ok", "", {}, {R"({"action":"moved","issue":"SOC-1"})"}}},
                     DeliveryStatus::kDone, "", 0);
  // At most 100 go per write, so that no write walks a long set.
  CHECK(l.direct.command({"ZCARD", set}).integer == 251 - 100);
  const std::string e2 = l.enqueue("d-2", now + 1);
  l.log.attemptEnded(key("d-2"), e2,
                     {{"jira", "ok", "", {}, {R"({"action":"moved","issue":"SOC-1"})"}}},
                     DeliveryStatus::kDone, "", 0);
  l.log.attemptEnded(key("d-3"), l.enqueue("d-3", now + 2),
                     {{"jira", "ok", "", {}, {R"({"action":"moved","issue":"SOC-1"})"}}},
                     DeliveryStatus::kDone, "", 0);
  CHECK(l.direct.command({"ZCARD", set}).integer == 3);
  DeliveryFilter filter;
  filter.issue = "SOC-1";
  CHECK(l.listIds(filter) == std::vector<std::string>{"d-3", "d-2", "d-1"});

  // Past delivery_log_max the oldest go too, recent as they are.
  for (int i = 0; i < 200; ++i)
    l.direct.command(
        {"ZADD", set, std::to_string(now - 1000 - i), "github::svc::x-" + std::to_string(i)});
  l.log.attemptEnded(key("d-4"), l.enqueue("d-4", now + 3),
                     {{"jira", "ok", "", {}, {R"({"action":"moved","issue":"SOC-1"})"}}},
                     DeliveryStatus::kDone, "", 0);
  CHECK(l.direct.command({"ZCARD", set}).integer == 150);
  CHECK(l.direct.command({"ZSCORE", set, "github::svc::d-4"}).text == std::to_string(now + 3));
}

TEST_CASE("delivery log: find reads a record whole - the payload only when asked for") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  CHECK_FALSE(l.log.find(key("nope"), true).has_value());
  l.log.attemptStarted(key("d-1"), entry, 1, "pull_request.merged");
  l.log.attemptEnded(key("d-1"), entry,
                     {{"jira", "retry", "503 from Jira", {}, {}},
                      {"audit", "ok", "", {}, {R"({"action":"logged","count":3})"}}},
                     DeliveryStatus::kRetrying, "jira: 503 from Jira", kT0 + 60000);
  auto record = l.log.find(key("d-1"), false);
  REQUIRE(record.has_value());
  CHECK(record->status == DeliveryStatus::kRetrying);
  CHECK(record->reason == "jira: 503 from Jira");
  CHECK(record->next_attempt_ms == kT0 + 60000);
  CHECK(record->kind == "pull_request.merged");
  CHECK(record->entry_id == entry);
  CHECK(record->attempts == 1);
  CHECK(record->updated_at_ms >= record->accepted_at_ms);
  CHECK_FALSE(record->payload.has_value());
  REQUIRE(record->workers.size() == 2);
  const auto& audit = record->workers[0];  // by name
  CHECK(audit.worker == "audit");
  CHECK(audit.outcome == "ok");
  REQUIRE(audit.actions.size() == 1);
  CHECK(audit.actions[0] == R"({"action":"logged","count":3})");
  const auto& jira = record->workers[1];
  CHECK(jira.outcome == "retry");
  CHECK(jira.message == "503 from Jira");
  REQUIRE(jira.attempts.size() == 1);
  CHECK(jira.attempts[0].outcome == "retry");
  CHECK(jira.attempts[0].message == "503 from Jira");
  CHECK(jira.attempts[0].at_ms > 0);

  auto whole = l.log.find(key("d-1"), true);
  REQUIRE(whole->payload.has_value());
  CHECK(*whole->payload == kPayload);
}

TEST_CASE("delivery log: replaying a dead delivery runs only the workers that failed") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  l.killDelivery("d-1", entry, {"audit", "notify"});
  REQUIRE(l.log.find(key("d-1"), false)->status == DeliveryStatus::kDead);
  CHECK(l.direct.command({"XLEN", QueueNames::kStream}).integer == 0);
  CHECK(l.direct.command({"XLEN", "conduit::dead-letters"}).integer == 2);
  const std::string seen = QueueNames::seenKey("github", "svc", "d-1");
  const auto seen_ttl = l.direct.command({"TTL", seen}).integer;

  auto result = l.log.replay(key("d-1"), false);
  REQUIRE(result.outcome == ReplayOutcome::kQueued);
  CHECK(result.entry_id != entry);
  // The same delivery, under its identity, as it was accepted.
  auto range = l.direct.command({"XRANGE", QueueNames::kStream, "-", "+"});
  REQUIRE(range.elements.size() == 1);
  CHECK(range.elements[0].elements[0].text == result.entry_id);
  auto fields = conduit::testing::streamEntryFields(range.elements[0]);
  CHECK(fields["schema"] == "1");
  CHECK(fields["provider"] == "github");
  CHECK(fields["repo_id"] == "svc");
  CHECK(fields["repo_path"] == "org/svc");
  CHECK(fields["event"] == "pull_request");
  CHECK(fields["delivery"] == "d-1");
  CHECK(fields["received_at_ms"] == std::to_string(kT0));
  CHECK(fields["payload"] == kPayload);
  CHECK(fields.size() == 8);
  // jira ended ok: its work is done for the new entry; the failed ones run again.
  DeliveryConsumer consumer(l.pool, "host:2");
  auto progress = consumer.loadProgress(result.entry_id);
  CHECK(progress.done == std::set<std::string>{"jira"});
  CHECK(progress.attempts == 0);
  CHECK(l.direct.command({"TTL", DeliveryConsumer::progressKey(result.entry_id)}).integer > 0);
  // Its dead letters are gone, the record follows the new entry, the seen key names it.
  CHECK(l.direct.command({"XLEN", "conduit::dead-letters"}).integer == 0);
  auto record = l.log.find(key("d-1"), false);
  CHECK(record->status == DeliveryStatus::kQueued);
  CHECK(record->entry_id == result.entry_id);
  CHECK(record->replays == 1);
  CHECK(record->reason.empty());
  CHECK(l.direct.command({"GET", seen}).text == result.entry_id);
  const auto ttl_after = l.direct.command({"TTL", seen}).integer;
  CHECK(ttl_after <= seen_ttl);
  CHECK(ttl_after > seen_ttl - 60);

  // Now queued: a second replay is refused, forced or not.
  CHECK(l.log.replay(key("d-1"), false).outcome == ReplayOutcome::kInProgress);
  CHECK(l.log.replay(key("d-1"), true).outcome == ReplayOutcome::kInProgress);
  CHECK(l.direct.command({"XLEN", QueueNames::kStream}).integer == 1);
}

// How many times Redis ran `command` so far, scripts' calls included.
int64_t commandCalls(RedisConnection& redis, const std::string& command) {
  const std::string stats = redis.command({"INFO", "commandstats"}).text;
  const std::string tag = "cmdstat_" + command + ":calls=";
  const size_t at = stats.find(tag);
  if (at == std::string::npos) return 0;
  return std::stoll(stats.substr(at + tag.size()));
}

TEST_CASE("delivery log: replaying a dead delivery never walks a long dead-letter stream at once") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  l.killDelivery("d-1", entry, {"audit"});
  // A long outage dead-lettered many other deliveries since.
  l.direct.command({"EVAL", R"lua(
for i = 1, 3000 do
  redis.call('XADD', KEYS[1], '*', 'provider', 'github', 'repo_id', 'svc', 'delivery',
             'other-' .. i, 'worker', 'audit', 'failed_at_ms', ARGV[1])
end
)lua",
                    "1", "conduit::dead-letters", std::to_string(kT0 + 1000)});
  const int64_t scripts_before = commandCalls(l.direct, "evalsha");
  const int64_t walked_before =
      commandCalls(l.direct, "xrange") + commandCalls(l.direct, "xrevrange");
  auto result = l.log.replay(key("d-1"), false);
  REQUIRE(result.outcome == ReplayOutcome::kQueued);
  const int64_t scripts = commandCalls(l.direct, "evalsha") - scripts_before;
  const int64_t walked =
      commandCalls(l.direct, "xrange") + commandCalls(l.direct, "xrevrange") - walked_before;
  // A page of 100 entries per call: no script looked at more than 1000 entries.
  CHECK(scripts > 0);
  CHECK(walked <= 11 * scripts);
  // Its own dead letter went, the others stayed.
  CHECK(l.direct.command({"XLEN", "conduit::dead-letters"}).integer == 3000);
  CHECK(l.log.find(key("d-1"), false)->status == DeliveryStatus::kQueued);
}

TEST_CASE("delivery log: a record whose last update was lost is still replayed") {
  Log l;
  DeliveryConsumer consumer(l.pool, "host:1");
  RedisConnection blocking(l.redis.endpoint(), std::chrono::seconds(3));
  // d-1: the worker dead-lettered audit, then could not write the record (Redis went away a
  // moment): it says processing of an entry the queue has finished with.
  const std::string e1 = l.enqueue("d-1", kT0);
  // d-2: the same, finished without dead letters.
  const std::string e2 = l.enqueue("d-2", kT0 + 1);
  // d-3: really in progress.
  const std::string e3 = l.enqueue("d-3", kT0 + 2);
  consumer.readNew(blocking, 100, milliseconds(50));
  const std::vector<std::pair<std::string, std::string>> started = {
      {"d-1", e1}, {"d-2", e2}, {"d-3", e3}};
  for (const auto& [id, entry] : started)
    l.log.attemptStarted(key(id), entry, 1, "pull_request.merged");
  REQUIRE(consumer.finish(e1, {{"audit", "no such project"}}, 1, {}));
  REQUIRE(consumer.finish(e2, {}, 1, {}));
  REQUIRE(l.log.find(key("d-1"), false)->status == DeliveryStatus::kProcessing);

  CHECK(l.log.replay(key("d-3"), true).outcome == ReplayOutcome::kInProgress);
  // Its dead letter says it failed: replayed without force, the dead letter gone with it.
  auto replayed = l.log.replay(key("d-1"), false);
  REQUIRE(replayed.outcome == ReplayOutcome::kQueued);
  CHECK(l.direct.command({"XLEN", "conduit::dead-letters"}).integer == 0);
  CHECK(l.log.find(key("d-1"), false)->entry_id == replayed.entry_id);
  // No dead letter: it ended done, replayed only when forced.
  CHECK(l.log.replay(key("d-2"), false).outcome == ReplayOutcome::kNotFailed);
  CHECK(l.log.replay(key("d-2"), true).outcome == ReplayOutcome::kQueued);
  CHECK(l.log.replay(key("d-1"), true).outcome == ReplayOutcome::kInProgress);

  // The dead-letter replay of such a delivery puts it back too.
  const std::string e4 = l.enqueue("d-4", kT0 + 3);
  consumer.readNew(blocking, 100, milliseconds(50));
  l.log.attemptStarted(key("d-4"), e4, 1, "");
  REQUIRE(consumer.finish(e4, {{"audit", "no such project"}}, 1, {}));
  DeadLetterSelection selection;
  selection.deliveries = {key("d-4")};
  CHECK(l.log.replayDeadLetters(selection) == 1);
  CHECK(l.log.find(key("d-4"), false)->status == DeliveryStatus::kQueued);
  CHECK(l.direct.command({"XLEN", "conduit::dead-letters"}).integer == 0);
}

TEST_CASE("delivery log: a done delivery is replayed only when forced - every worker again") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  CHECK(l.log.replay(key("d-1"), true).outcome == ReplayOutcome::kInProgress);  // queued
  l.log.attemptStarted(key("d-1"), entry, 1, "pull_request.merged");
  CHECK(l.log.replay(key("d-1"), false).outcome == ReplayOutcome::kInProgress);  // processing
  l.log.attemptEnded(key("d-1"), entry,
                     {{"jira", "ok", "", {}, {R"({"action":"moved","issue":"SOC-1"})"}}},
                     DeliveryStatus::kDone, "", 0);
  CHECK(l.log.replay(key("d-1"), false).outcome == ReplayOutcome::kNotFailed);
  CHECK(l.direct.command({"XLEN", QueueNames::kStream}).integer == 1);  // only the first

  auto forced = l.log.replay(key("d-1"), true);
  REQUIRE(forced.outcome == ReplayOutcome::kQueued);
  CHECK_FALSE(l.exists(DeliveryConsumer::progressKey(forced.entry_id)));
  CHECK(l.log.find(key("d-1"), false)->replays == 1);
  CHECK(l.direct.command({"XLEN", QueueNames::kStream}).integer == 2);

  CHECK(l.log.replay(key("never-seen"), true).outcome == ReplayOutcome::kNotFound);
}

TEST_CASE("delivery log: a dead letter whose record is gone is replayed from its own fields") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  l.killDelivery("d-1", entry);
  l.direct.command({"DEL", "conduit::log::github::svc::d-1"});  // past delivery_log_hours
  CHECK(l.log.replay(key("d-1"), false).outcome == ReplayOutcome::kNotFound);

  CHECK(l.log.replayDeadLetters(DeadLetterSelection{}) == 1);
  auto range = l.direct.command({"XRANGE", QueueNames::kStream, "-", "+"});
  REQUIRE(range.elements.size() == 1);
  auto fields = conduit::testing::streamEntryFields(range.elements[0]);
  CHECK(fields["delivery"] == "d-1");
  CHECK(fields["repo_path"] == "org/svc");
  CHECK(fields["received_at_ms"] == std::to_string(kT0));
  CHECK(fields["payload"] == kPayload);
  CHECK(fields.count("worker") == 0);
  CHECK(fields.size() == 8);
  CHECK(l.direct.command({"XLEN", "conduit::dead-letters"}).integer == 0);
  CHECK_FALSE(l.exists("conduit::log::github::svc::d-1"));  // not made again
  CHECK(l.direct.command({"GET", QueueNames::seenKey("github", "svc", "d-1")}).text ==
        range.elements[0].elements[0].text);
  CHECK(l.log.replayDeadLetters(DeadLetterSelection{}) == 0);  // nothing left
}

TEST_CASE("delivery log: dead letters replayed by list or filter - each delivery once") {
  Log l;
  const std::string e1 = l.enqueue("d-1", kT0);
  const std::string e2 = l.enqueue("d-2", kT0 + 1, "web");
  const std::string e3 = l.enqueue("d-3", kT0 + 2);
  l.killDelivery("d-1", e1, {"audit", "notify"});
  l.killDelivery("d-2", e2, {"audit"}, "web");
  l.killDelivery("d-3", e3, {"notify"});

  DeadLetterSelection by_list;
  by_list.deliveries = {key("d-1"), key("missing")};
  CHECK(l.log.replayDeadLetters(by_list) == 1);  // two dead letters, one delivery
  CHECK(l.log.find(key("d-1"), false)->status == DeliveryStatus::kQueued);
  CHECK(l.direct.command({"XLEN", "conduit::dead-letters"}).integer == 2);
  auto progress =
      DeliveryConsumer(l.pool, "x").loadProgress(l.log.find(key("d-1"), false)->entry_id);
  CHECK(progress.done == std::set<std::string>{"jira"});

  DeadLetterSelection by_filter;
  by_filter.filter.worker = "notify";
  CHECK(l.log.replayDeadLetters(by_filter) == 1);
  CHECK(l.log.find(key("d-3"), false)->status == DeliveryStatus::kQueued);
  CHECK(l.log.find(key("d-2", "web"), false)->status == DeliveryStatus::kDead);

  // A delivery whose record says it is on the queue again (and is) keeps its dead letter for now.
  const std::string again =
      l.direct.command({"XADD", QueueNames::kStream, "*", "delivery", "d-2"}).text;
  l.direct.command(
      {"HSET", "conduit::log::github::web::d-2", "status", "retrying", "entry", again});
  CHECK(l.log.replayDeadLetters(DeadLetterSelection{}) == 0);
  CHECK(l.direct.command({"XLEN", "conduit::dead-letters"}).integer == 1);
}

TEST_CASE("delivery log: dead letters listed newest first - filters and cursor") {
  Log l;
  const std::string e1 = l.enqueue("d-1", kT0);
  const std::string e2 = l.enqueue("d-2", kT0 + 1, "web");
  const std::string e3 = l.enqueue("d-3", kT0 + 2);
  l.killDelivery("d-1", e1, {"audit"});
  l.killDelivery("d-2", e2, {"audit"}, "web");
  l.killDelivery("d-3", e3, {"notify"});

  auto all = l.log.listDeadLetters({});
  REQUIRE(all.letters.size() == 3);
  CHECK(all.next_cursor.empty());
  CHECK(all.letters[0].key.delivery_id == "d-3");
  CHECK(all.letters[0].worker == "notify");
  CHECK(all.letters[0].error == "no such project");
  CHECK(all.letters[0].attempts == 3);
  CHECK(all.letters[0].entry_id == e3);
  CHECK(all.letters[0].repo_path == "org/svc");
  CHECK(all.letters[0].event == "pull_request");
  CHECK(all.letters[0].received_at_ms == kT0 + 2);
  CHECK(all.letters[0].failed_at_ms > 0);
  CHECK(all.letters[2].key.delivery_id == "d-1");

  DeliveryFilter filter;
  filter.repo_id = "web";
  auto web = l.log.listDeadLetters(filter);
  REQUIRE(web.letters.size() == 1);
  CHECK(web.letters[0].key.delivery_id == "d-2");
  filter = {};
  filter.worker = "audit";
  CHECK(l.log.listDeadLetters(filter).letters.size() == 2);
  filter.provider = "gitlab";
  CHECK(l.log.listDeadLetters(filter).letters.empty());

  // Times on failed_at_ms.
  filter = {};
  const int64_t failed = all.letters[1].failed_at_ms;
  filter.since_ms = failed + 24 * kHourMs;
  CHECK(l.log.listDeadLetters(filter).letters.empty());
  filter.since_ms = 0;
  filter.until_ms = failed - 24 * kHourMs;
  CHECK(l.log.listDeadLetters(filter).letters.empty());
  filter.until_ms = failed + 24 * kHourMs;
  CHECK(l.log.listDeadLetters(filter).letters.size() == 3);

  filter = {};
  filter.limit = 2;
  auto first = l.log.listDeadLetters(filter);
  REQUIRE(first.letters.size() == 2);
  REQUIRE(first.next_cursor == first.letters[1].id);
  filter.cursor = first.next_cursor;
  auto second = l.log.listDeadLetters(filter);
  REQUIRE(second.letters.size() == 1);
  CHECK(second.letters[0].key.delivery_id == "d-1");
  CHECK(second.next_cursor.empty());
  filter.cursor = "not-an-id";
  CHECK_THROWS_AS(l.log.listDeadLetters(filter), std::invalid_argument);
}

TEST_CASE("delivery log: a discarded dead letter is gone for good - its record stays") {
  Log l;
  const std::string e1 = l.enqueue("d-1", kT0);
  const std::string e2 = l.enqueue("d-2", kT0 + 1);
  l.killDelivery("d-1", e1, {"audit", "notify"});
  l.killDelivery("d-2", e2, {"audit"});
  CHECK(l.log.discardDeadLetters(key("d-1")));
  CHECK_FALSE(l.log.discardDeadLetters(key("d-1")));
  CHECK_FALSE(l.log.discardDeadLetters(key("missing")));
  auto left = l.log.listDeadLetters({});
  REQUIRE(left.letters.size() == 1);
  CHECK(left.letters[0].key.delivery_id == "d-2");
  CHECK(l.log.find(key("d-1"), false)->status == DeliveryStatus::kDead);
  CHECK(l.log.replayDeadLetters({{key("d-1")}, {}}) == 0);
}

TEST_CASE("delivery log: the worker's updates never make a record again") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  l.direct.command({"DEL", "conduit::log::github::svc::d-1"});  // trimmed
  l.log.attemptStarted(key("d-1"), entry, 1, "pull_request.merged");
  CHECK_FALSE(l.exists("conduit::log::github::svc::d-1"));
  l.log.attemptEnded(key("d-1"), entry,
                     {{"jira", "ok", "", {}, {R"({"action":"moved","issue":"SOC-1"})"}}},
                     DeliveryStatus::kDone, "", 0);
  CHECK_FALSE(l.exists("conduit::log::github::svc::d-1"));
  CHECK_FALSE(l.exists("conduit::log::issue::SOC-1"));

  // Nor write a record that follows another entry of the delivery.
  l.direct.command({"DEL", QueueNames::seenKey("github", "svc", "d-1")});
  const std::string newer = l.enqueue("d-1", kT0 + 10);
  l.log.attemptStarted(key("d-1"), entry, 4, "push");
  l.log.attemptEnded(key("d-1"), entry, {{"jira", "failed", "gone", {}, {}}}, DeliveryStatus::kDead,
                     "jira: gone", 0);
  auto record = l.log.find(key("d-1"), false);
  CHECK(record->entry_id == newer);
  CHECK(record->status == DeliveryStatus::kQueued);
  CHECK(record->workers.empty());
}

TEST_CASE("delivery log: a worker's attempts and actions are capped - the latest kept") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  for (int i = 0; i < 25; ++i) {
    std::vector<std::string> actions;
    for (int a = 0; a < 10; ++a) {
      actions.push_back(R"({"action":"skipped","issue":"SOC-)" + std::to_string(i * 10 + a) +
                        R"(","reason":"n"})");
    }
    l.log.attemptEnded(key("d-1"), entry,
                       {{"jira", "retry", "try " + std::to_string(i), {}, actions}},
                       DeliveryStatus::kRetrying, "jira: try", kT0 + i);
  }
  auto record = l.log.find(key("d-1"), false);
  REQUIRE(record->workers.size() == 1);
  const auto& jira = record->workers[0];
  REQUIRE(jira.attempts.size() == 20);
  CHECK(jira.attempts.front().message == "try 5");
  CHECK(jira.attempts.back().message == "try 24");
  REQUIRE(jira.actions.size() == 200);
  CHECK(jira.actions.front().find("SOC-50\"") != std::string::npos);
  CHECK(jira.actions.back().find("SOC-249\"") != std::string::npos);
  CHECK(record->issues.size() == 250);  // the record's issue list keeps every key named
}

TEST_CASE("delivery log: the same answer sent twice is recorded once") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  std::vector<WorkerRecord> answer = {{"jira",
                                       "retry",
                                       "503",
                                       {WorkerAttempt{kT0 + 5, "retry", "503"}},
                                       {R"({"action":"failed","issue":"SOC-1","reason":"503"})"}}};
  l.log.attemptEnded(key("d-1"), entry, answer, DeliveryStatus::kRetrying, "jira: 503", kT0 + 9);
  l.log.attemptEnded(key("d-1"), entry, answer, DeliveryStatus::kRetrying, "jira: 503", kT0 + 9);
  auto jira = l.log.find(key("d-1"), false)->workers.at(0);
  CHECK(jira.attempts.size() == 1);
  CHECK(jira.actions.size() == 1);
}

TEST_CASE("delivery log: ignored when every worker reported only `ignored` - with why") {
  using Workers = std::vector<WorkerRecord>;
  std::string reason = "untouched";
  const std::string ignored_merge = R"({"action":"ignored","reason":"closed without merge"})";
  const std::string ignored_keys = R"({"action":"ignored","reason":"no issue keys"})";
  CHECK(decideLoggedStatus(Workers{{"jira", "ok", "", {}, {ignored_merge}},
                                   {"audit", "ok", "", {}, {ignored_keys}}},
                           &reason) == DeliveryStatus::kIgnored);
  CHECK(reason == "jira: closed without merge; audit: no issue keys");
  reason = "untouched";
  // A worker that reports nothing (an ABI 1.0/1.1 plugin) has done its work.
  CHECK(decideLoggedStatus(
            Workers{{"jira", "ok", "", {}, {ignored_merge}}, {"old", "ok", "", {}, {}}}, &reason) ==
        DeliveryStatus::kDone);
  CHECK(reason == "untouched");
  CHECK(decideLoggedStatus(
            Workers{{"jira", "ok", "", {}, {ignored_merge, R"({"action":"moved"})"}}}, &reason) ==
        DeliveryStatus::kDone);
  CHECK(decideLoggedStatus(Workers{}, &reason) == DeliveryStatus::kDone);

  // attemptEnded decides it over the record, earlier attempts included.
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  l.log.attemptEnded(key("d-1"), entry, {{"jira", "ok", "", {}, {ignored_merge}}},
                     DeliveryStatus::kDone, "", 0);
  auto record = l.log.find(key("d-1"), false);
  CHECK(record->status == DeliveryStatus::kIgnored);
  CHECK(record->reason == "jira: closed without merge");
  l.log.attemptEnded(key("d-1"), entry,
                     {{"audit", "ok", "", {}, {R"({"action":"commented","issue":"SOC-3"})"}}},
                     DeliveryStatus::kDone, "", 0);
  record = l.log.find(key("d-1"), false);
  CHECK(record->status == DeliveryStatus::kDone);
  CHECK(record->reason.empty());
}

TEST_CASE("delivery log: status names read back") {
  for (auto status :
       {DeliveryStatus::kQueued, DeliveryStatus::kProcessing, DeliveryStatus::kRetrying,
        DeliveryStatus::kDone, DeliveryStatus::kDead, DeliveryStatus::kIgnored}) {
    CHECK(conduit::queue::parseStatus(conduit::queue::statusName(status)) == status);
  }
  CHECK_FALSE(conduit::queue::parseStatus("DONE").has_value());
  CHECK_FALSE(conduit::queue::parseStatus("").has_value());
}

TEST_CASE("delivery log: the server writes a record per delivery - within its configured bounds") {
  conduit::testing::ServerFixture server([](conduit::config::ServerSettings& s) {
    s.delivery_log_hours = 2;
    s.delivery_log_max = 2;
  });
  const std::string secret = server.registerHook("svc", "org/svc");
  const std::string body = R"({"action":"opened","number":1})";
  for (const char* id : {"h-1", "h-2", "h-3"}) {
    auto answer = server.deliver("svc", body, secret, "pull_request", id);
    REQUIRE(answer);
    REQUIRE(answer->status == 202);
  }
  auto redis = server.redisClient();
  CHECK(redis->command({"ZCARD", "conduit::log::index"}).integer == 2);  // delivery_log_max
  CHECK(redis->command({"EXISTS", "conduit::log::github::svc::h-1"}).integer == 0);
  CHECK(redis->command({"HGET", "conduit::log::github::svc::h-3", "delivery"}).text == "h-3");
  const auto ttl = redis->command({"TTL", "conduit::log::github::svc::h-3"}).integer;
  CHECK(ttl > 2 * 3600 - 60);  // delivery_log_hours
  CHECK(ttl <= 2 * 3600);
}

TEST_CASE("delivery log: a bare delivery id names its deliveries - in the log or dead letters") {
  Log l;
  l.enqueue("d-1", kT0, "svc");
  l.enqueue("d-1", kT0 + 1, "web");
  l.enqueue("d-10", kT0 + 2, "svc");
  const std::string entry = l.enqueue("x:d-1", kT0 + 3, "svc");  // ids may hold ':'
  CHECK(l.log.keysOf("nope").empty());
  CHECK(l.log.keysOf("*").empty());
  auto keys = l.log.keysOf("d-1");
  REQUIRE(keys.size() == 2);
  std::set<std::string> repos = {keys[0].repo_id, keys[1].repo_id};
  CHECK(repos == std::set<std::string>{"svc", "web"});
  CHECK(keys[0].provider == "github");
  CHECK(keys[0].delivery_id == "d-1");

  l.killDelivery("x:d-1", entry);
  l.direct.command({"DEL", "conduit::log::github::svc::x:d-1"});
  l.direct.command({"ZREM", "conduit::log::index", "github::svc::x:d-1"});
  auto dead = l.log.keysOf("x:d-1");
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].repo_id == "svc");
  CHECK(dead[0].delivery_id == "x:d-1");
}

TEST_CASE("delivery log: an entry of '' (being queued) is taken by the worker's first update") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  const std::string seen = "conduit::seen::github::svc::d-1";
  // What a server stopped between the enqueue's transaction and the writing of its id leaves.
  l.direct.command({"HSET", "conduit::log::github::svc::d-1", "entry", ""});
  l.direct.command({"SET", seen, "", "KEEPTTL"});
  // The replay sees it as still being queued.
  CHECK(l.log.replay(key("d-1"), true).outcome == ReplayOutcome::kInProgress);

  l.log.attemptStarted(key("d-1"), entry, 1, "pull_request.merged");
  auto fields = l.record("d-1");
  CHECK(fields["entry"] == entry);
  CHECK(fields["status"] == "processing");
  CHECK(fields["kind"] == "pull_request.merged");
  CHECK(l.direct.command({"GET", seen}).text == entry);
  CHECK(l.direct.command({"TTL", seen}).integer > 72 * 3600 - 60);

  // The same for the end of an attempt whose start was not recorded.
  l.direct.command({"HSET", "conduit::log::github::svc::d-1", "entry", ""});
  l.log.attemptEnded(key("d-1"), entry, {{"jira", "ok", "", {}, {}}}, DeliveryStatus::kDone, "", 0);
  fields = l.record("d-1");
  CHECK(fields["entry"] == entry);
  CHECK(fields["status"] == "done");

  // A record that follows another entry is still not written.
  l.log.attemptStarted(key("d-1"), "1-1", 2, "pull_request.merged");
  CHECK(l.record("d-1")["entry"] == entry);
  CHECK(l.record("d-1")["status"] == "done");
}

TEST_CASE("delivery log: the record gets the payload when its entry leaves the stream") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  CHECK(l.record("d-1").count("payload") == 0);
  auto found = l.log.find(key("d-1"), true);
  REQUIRE(found);
  CHECK(found->payload == std::optional<std::string>(kPayload));  // from the entry

  // The worker's finish copies it in, in the step that deletes the entry.
  DeliveryConsumer consumer(l.pool, "host:1");
  RedisConnection blocking(l.redis.endpoint(), std::chrono::seconds(3));
  REQUIRE(consumer.readNew(blocking, 10, milliseconds(50)).size() == 1);
  REQUIRE(consumer.finish(entry, {}, 1, {}));
  l.log.attemptEnded(key("d-1"), entry, {{"jira", "ok", "", {}, {}}}, DeliveryStatus::kDone, "", 0);
  CHECK(l.direct.command({"XLEN", QueueNames::kStream}).integer == 0);
  CHECK(l.record("d-1")["payload"] == kPayload);
  CHECK(l.log.find(key("d-1"), true)->payload == std::optional<std::string>(kPayload));
  // So a replay after the entry is gone queues the delivery whole.
  auto replayed = l.log.replay(key("d-1"), true);
  REQUIRE(replayed.outcome == ReplayOutcome::kQueued);
  auto range = l.direct.command({"XRANGE", QueueNames::kStream, "-", "+"});
  REQUIRE(range.elements.size() == 1);
  CHECK(conduit::testing::streamEntryFields(range.elements[0])["payload"] == kPayload);

  // A record that follows another entry (accepted again since) is not written by the finish.
  const std::string other = l.enqueue("d-2", kT0 + 1);
  l.direct.command({"HSET", "conduit::log::github::svc::d-2", "entry", "1-1"});
  REQUIRE(consumer.readNew(blocking, 10, milliseconds(50)).size() == 2);
  REQUIRE(consumer.finish(other, {}, 1, {}));
  CHECK(l.record("d-2").count("payload") == 0);
}

TEST_CASE("delivery log: a record whose entry was deleted by hand has no payload to replay") {
  Log l;
  const std::string entry = l.enqueue("d-1", kT0);
  l.direct.command({"XDEL", QueueNames::kStream, entry});
  l.direct.command({"HSET", "conduit::log::github::svc::d-1", "status", "done"});
  CHECK(l.log.replay(key("d-1"), true).outcome == ReplayOutcome::kNotFound);
  CHECK(l.direct.command({"XLEN", QueueNames::kStream}).integer == 0);
}
