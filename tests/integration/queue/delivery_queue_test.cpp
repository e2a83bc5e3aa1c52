#include "queue/delivery_queue.hpp"

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "redis_server.hpp"

using conduit::queue::Delivery;
using conduit::queue::DeliveryQueue;
using conduit::queue::QueueNames;
using conduit::store::RedisConnection;
using conduit::store::RedisPool;
using conduit::testing::RedisServer;

TEST_CASE("queue: the consumer group exists before any worker - from the first entry on") {
  RedisServer redis;
  RedisPool pool(redis.endpoint(), std::chrono::seconds(2));
  RedisConnection direct(redis.endpoint(), std::chrono::seconds(2));
  DeliveryQueue queue(pool);
  queue.ensureConsumerGroup();
  queue.ensureConsumerGroup();  // a second server starting is fine

  auto groups = direct.command({"XINFO", "GROUPS", QueueNames::kStream});
  REQUIRE(groups.elements.size() == 1);
  CHECK(groups.elements[0].elements[1].text == QueueNames::kGroup);
}

TEST_CASE("queue: enqueue appends every field - the same delivery id is not queued twice") {
  RedisServer redis;
  RedisPool pool(redis.endpoint(), std::chrono::seconds(2));
  RedisConnection direct(redis.endpoint(), std::chrono::seconds(2));
  DeliveryQueue queue(pool);

  Delivery delivery{
      "github", "repo", "org/repo", "pull_request", "d-1", 1700000000123, R"({"action":"closed"})"};
  auto first = queue.enqueue(delivery);
  CHECK_FALSE(first.duplicate);
  auto again = queue.enqueue(delivery);
  CHECK(again.duplicate);
  CHECK(again.entry_id == first.entry_id);
  CHECK(direct.command({"XLEN", QueueNames::kStream}).integer == 1);

  auto range = direct.command({"XRANGE", QueueNames::kStream, "-", "+"});
  auto fields = conduit::testing::streamEntryFields(range.elements[0]);
  CHECK(fields["schema"] == "1");
  CHECK(fields["provider"] == "github");
  CHECK(fields["repo_id"] == "repo");
  CHECK(fields["repo_path"] == "org/repo");
  CHECK(fields["event"] == "pull_request");
  CHECK(fields["delivery"] == "d-1");
  CHECK(fields["received_at_ms"] == "1700000000123");
  CHECK(fields["payload"] == R"({"action":"closed"})");

  // The id is remembered for 72 hours, and it names the entry it became.
  auto seen = QueueNames::seenKey("github", "repo", "d-1");
  CHECK(direct.command({"GET", seen}).text == first.entry_id);
  auto ttl = direct.command({"TTL", seen}).integer;
  CHECK(ttl > 72 * 3600 - 60);
  CHECK(ttl <= 72 * 3600);

  // The same id for another hook is another delivery.
  Delivery other = delivery;
  other.repo_id = "other";
  CHECK_FALSE(queue.enqueue(other).duplicate);

  // The group was made with the stream, even though ensureConsumerGroup() was never called.
  CHECK(direct.command({"XINFO", "GROUPS", QueueNames::kStream}).elements.size() == 1);
}

TEST_CASE("queue: entries are never trimmed by the producer") {
  RedisServer redis;
  RedisPool pool(redis.endpoint(), std::chrono::seconds(2));
  RedisConnection direct(redis.endpoint(), std::chrono::seconds(2));
  DeliveryQueue queue(pool);
  for (int i = 0; i < 2000; ++i) {
    std::string id = "d-" + std::to_string(i);
    queue.enqueue({"github", "repo", "org/repo", "push", id, 1, "{}"});
  }
  CHECK(direct.command({"XLEN", QueueNames::kStream}).integer == 2000);
  // Redis counts what was ever removed from the stream: nothing, trimmed or deleted.
  auto info = direct.command({"XINFO", "STREAM", QueueNames::kStream});
  std::map<std::string, std::string> fields;
  for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
    const auto& value = info.elements[i + 1];
    fields[info.elements[i].text] = value.type == conduit::store::RedisValue::Type::kInteger
                                        ? std::to_string(value.integer)
                                        : value.text;
  }
  CHECK(fields["max-deleted-entry-id"] == "0-0");
  CHECK(fields["entries-added"] == "2000");
}

namespace {

// Keeps Redis busy (a script spinning for `busy`) from another connection, so that the
// enqueues sent meanwhile pile up behind it.
std::thread blockRedis(const RedisServer& redis, std::chrono::milliseconds busy) {
  return std::thread([endpoint = redis.endpoint(), busy] {
    RedisConnection blocker(endpoint, std::chrono::seconds(5));
    const std::string micros = std::to_string(busy.count() * 1000);
    blocker.command({"EVAL", R"lua(
local s = redis.call('TIME')
repeat local n = redis.call('TIME') until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > tonumber(ARGV[1])
return 1)lua",
                     "0", micros});
  });
}

long long commandCalls(RedisConnection& direct, const std::string& name) {
  auto info = direct.command({"INFO", "commandstats"}).text;
  const std::string prefix = "cmdstat_" + name + ":calls=";
  auto at = info.find(prefix);
  if (at == std::string::npos) return 0;
  return std::stoll(info.substr(at + prefix.size()));
}

}  // namespace

TEST_CASE("queue: concurrent enqueues share round trips - each answered with its own entry") {
  RedisServer redis;
  RedisPool pool(redis.endpoint(), std::chrono::seconds(5));
  RedisConnection direct(redis.endpoint(), std::chrono::seconds(5));
  DeliveryQueue queue(pool);
  queue.ensureConsumerGroup();
  const auto exec_before = commandCalls(direct, "exec");

  constexpr int kCallers = 8;
  std::vector<std::string> payloads;
  for (int i = 0; i < kCallers; ++i)
    payloads.push_back(R"({"n":)" + std::to_string(i) + R"(,"pad":")" + std::string(40000, 'p') +
                       R"("})");
  std::vector<conduit::queue::EnqueueResult> results(kCallers);
  auto blocker = blockRedis(redis, std::chrono::milliseconds(800));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      const std::string id = "c-" + std::to_string(i);
      results[i] =
          queue.enqueue({"github", "repo", "org/repo", "push", id, 1700000000000 + i, payloads[i]});
    });
    // The first leads a batch of its own, stuck behind the busy script; the rest wait for it.
    if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& caller : callers)
    caller.join();
  blocker.join();

  // Two transactions for eight deliveries (a third if the machine was slow to start a thread).
  CHECK(commandCalls(direct, "exec") - exec_before <= 3);
  std::set<std::string> entries;
  for (int i = 0; i < kCallers; ++i) {
    CHECK_FALSE(results[i].duplicate);
    entries.insert(results[i].entry_id);
    auto found =
        direct.command({"XRANGE", QueueNames::kStream, results[i].entry_id, results[i].entry_id});
    REQUIRE(found.elements.size() == 1);
    auto fields = conduit::testing::streamEntryFields(found.elements[0]);
    CHECK(fields["delivery"] == "c-" + std::to_string(i));
    CHECK(fields["payload"] == payloads[i]);
    // The ids were written after the transaction: no '' is left.
    const std::string id = "c-" + std::to_string(i);
    CHECK(direct.command({"GET", QueueNames::seenKey("github", "repo", id)}).text ==
          results[i].entry_id);
    CHECK(direct.command({"HGET", "conduit::log::github::repo::" + id, "entry"}).text ==
          results[i].entry_id);
    CHECK(direct.command({"HEXISTS", "conduit::log::github::repo::" + id, "payload"}).integer ==
          0);  // the entry holds it while queued
  }
  CHECK(entries.size() == kCallers);
  CHECK(direct.command({"XLEN", QueueNames::kStream}).integer == kCallers);
}

TEST_CASE("queue: the same delivery from several threads at once is queued once") {
  RedisServer redis;
  RedisPool pool(redis.endpoint(), std::chrono::seconds(5));
  RedisConnection direct(redis.endpoint(), std::chrono::seconds(5));
  DeliveryQueue queue(pool);

  constexpr int kCallers = 6;
  std::vector<conduit::queue::EnqueueResult> results(kCallers);
  auto blocker = blockRedis(redis, std::chrono::milliseconds(600));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      results[i] =
          queue.enqueue({"github", "repo", "org/repo", "push", "same", 1700000000000, "{}"});
    });
  }
  for (auto& caller : callers)
    caller.join();
  blocker.join();

  int queued = 0;
  std::string entry;
  for (const auto& result : results) {
    if (!result.duplicate) {
      ++queued;
      entry = result.entry_id;
    }
  }
  CHECK(queued == 1);
  // Every duplicate names the one entry: the second of a batch waits for the next one, which
  // reads the seen key after its id was written.
  for (const auto& result : results)
    CHECK(result.entry_id == entry);
  CHECK(direct.command({"XLEN", QueueNames::kStream}).integer == 1);
  CHECK(direct.command({"ZCARD", "conduit::log::index"}).integer == 1);
}

TEST_CASE("queue: the payload never enters Lua - it is sent once, to XADD") {
  RedisServer redis;
  RedisPool pool(redis.endpoint(), std::chrono::seconds(5));
  RedisConnection direct(redis.endpoint(), std::chrono::seconds(5));
  DeliveryQueue queue(pool);
  queue.ensureConsumerGroup();
  direct.command({"SCRIPT", "FLUSH"});  // the enqueue needs no script cached beforehand
  direct.command({"CONFIG", "SET", "slowlog-log-slower-than", "0"});
  direct.command({"CONFIG", "SET", "slowlog-max-len", "1000"});
  direct.command({"SLOWLOG", "RESET"});
  const std::string payload = R"({"pad":")" + std::string(32000, 'q') + R"("})";
  auto result =
      queue.enqueue({"github", "repo", "org/repo", "push", "lua-1", 1700000000000, payload});
  CHECK_FALSE(result.duplicate);

  // The slow log keeps each command with its arguments (a long one cut to 128 bytes and a note
  // of how many more): the payload is an argument of XADD and HSET, of no EVAL.
  auto log = direct.command({"SLOWLOG", "GET", "1000"});
  std::map<std::string, int> with_payload;
  int evals = 0;
  for (const auto& item : log.elements) {
    const auto& args = item.elements[3].elements;
    if (args.empty()) continue;
    std::string name = args[0].text;
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "eval" || name == "evalsha") ++evals;
    for (const auto& arg : args) {
      if (arg.text.find("qqqqqqqq") != std::string::npos) ++with_payload[name];
    }
  }
  CHECK(evals >= 1);
  CHECK(with_payload["eval"] == 0);
  CHECK(with_payload["evalsha"] == 0);
  CHECK(with_payload["xadd"] == 1);
  CHECK(with_payload["hset"] == 0);  // sent once: the record gets it when the entry leaves
}
