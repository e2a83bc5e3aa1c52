// The consuming side of the queue against a real Redis: what two consumers of the group see.
#include "queue/delivery_consumer.hpp"

#include <thread>

#include <doctest/doctest.h>

#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"

using conduit::queue::DeliveryConsumer;
using conduit::queue::DeliveryProgress;
using conduit::queue::DeliveryQueue;
using conduit::queue::FailedWorker;
using conduit::queue::QueueNames;
using conduit::store::RedisConnection;
using conduit::store::RedisPool;
using conduit::testing::RedisServer;
using std::chrono::milliseconds;

namespace {

struct Queue {
  RedisServer redis;
  RedisPool pool{redis.endpoint(), std::chrono::seconds(2)};
  RedisConnection direct{redis.endpoint(), std::chrono::seconds(2)};
  DeliveryQueue queue{pool};

  std::string enqueue(const std::string& id) {
    conduit::queue::Delivery delivery;
    delivery.provider = "github";
    delivery.repo_id = "svc";
    delivery.repo_path = "org/svc";
    delivery.event = "release";
    delivery.delivery_id = id;
    delivery.received_at_ms = 42;
    delivery.payload = R"({"action":"published"})";
    return queue.enqueue(delivery).entry_id;
  }
  long long pending() {
    auto reply = direct.command({"XPENDING", QueueNames::kStream, QueueNames::kGroup});
    return reply.elements[0].integer;
  }
};

}  // namespace

TEST_CASE("consumer: reads the ingress's fields - and a second read gets nothing new") {
  Queue q;
  q.queue.ensureConsumerGroup();
  const std::string entry = q.enqueue("d-1");
  DeliveryConsumer consumer(q.pool, "host:1");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  auto read = consumer.readNew(blocking, 10, milliseconds(100));
  REQUIRE(read.size() == 1);
  CHECK(read[0].entry_id == entry);
  CHECK(read[0].schema == "1");
  CHECK(read[0].provider == "github");
  CHECK(read[0].repo_id == "svc");
  CHECK(read[0].repo_path == "org/svc");
  CHECK(read[0].event == "release");
  CHECK(read[0].delivery_id == "d-1");
  CHECK(read[0].received_at_ms == 42);
  CHECK(read[0].payload == R"({"action":"published"})");
  CHECK(consumer.readNew(blocking, 10, milliseconds(50)).empty());
  CHECK(q.pending() == 1);
}

TEST_CASE("consumer: a consumer's own pending entries come back to it - deleted ones are let go") {
  Queue q;
  q.queue.ensureConsumerGroup();
  const std::string kept = q.enqueue("d-1");
  const std::string gone = q.enqueue("d-2");
  DeliveryConsumer consumer(q.pool, "host:1");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  REQUIRE(consumer.readNew(blocking, 10, milliseconds(100)).size() == 2);
  q.direct.command({"XDEL", QueueNames::kStream, gone});

  auto page = consumer.readOwnPending(10, "0");
  REQUIRE(page.entries.size() == 1);
  CHECK(page.entries[0].entry_id == kept);
  CHECK(page.last_id == gone);
  CHECK(q.pending() == 1);  // the deleted one was acknowledged away
  CHECK(consumer.readOwnPending(10, page.last_id).entries.empty());
  // Another consumer has none of its own.
  CHECK(DeliveryConsumer(q.pool, "host:2").readOwnPending(10, "0").entries.empty());
}

TEST_CASE("consumer: entries left idle are claimed - held ones are not") {
  Queue q;
  q.queue.ensureConsumerGroup();
  const std::string held = q.enqueue("d-held");
  const std::string left = q.enqueue("d-left");
  DeliveryConsumer alive(q.pool, "host:1");
  DeliveryConsumer other(q.pool, "host:2");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  REQUIRE(alive.readNew(blocking, 10, milliseconds(100)).size() == 2);

  std::this_thread::sleep_for(milliseconds(150));
  CHECK(alive.keepHolding({held}).empty());  // refreshes d-held only
  auto claimed = other.claimIdle(milliseconds(100), 10, "0-0");
  REQUIRE(claimed.entries.size() == 1);
  CHECK(claimed.entries[0].entry_id == left);
  CHECK(claimed.entries[0].delivery_id == "d-left");
  // The first consumer learns it lost d-left, and keeps d-held.
  CHECK(alive.keepHolding({held, left}) == std::vector<std::string>{left});
}

TEST_CASE("consumer: progress survives between attempts - finish keeps only the checkpoints") {
  Queue q;
  q.queue.ensureConsumerGroup();
  const std::string entry = q.enqueue("d-1");
  DeliveryConsumer consumer(q.pool, "host:1");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  REQUIRE(consumer.readNew(blocking, 10, milliseconds(100)).size() == 1);

  DeliveryProgress progress;
  progress.attempts = 2;
  progress.done = {"jira", "slack"};
  progress.failed = {{"audit", "no such project"}};
  progress.due_ms = 1234;
  progress.last_error = "jira: 503";
  CHECK(consumer.markStarted(entry, 2));
  CHECK(consumer.loadProgress(entry).started == 2);
  CHECK(consumer.loadProgress(entry).attempts == 0);
  CHECK(consumer.saveProgress(entry, progress));
  auto loaded = consumer.loadProgress(entry);
  CHECK(loaded.attempts == 2);
  CHECK(loaded.started == 2);
  CHECK(loaded.done == progress.done);
  CHECK(loaded.failed == progress.failed);
  CHECK(loaded.due_ms == 1234);
  CHECK(loaded.last_error == "jira: 503");
  CHECK(q.direct.command({"TTL", DeliveryConsumer::progressKey(entry)}).integer > 0);

  q.direct.command({"SET", "conduit::checkpoints::x", "1"});
  consumer.finish(entry, {FailedWorker{"audit", "no such project"}}, 3,
                  {"conduit::checkpoints::x"});
  CHECK(q.direct.command({"XLEN", QueueNames::kStream}).integer == 0);
  CHECK(q.pending() == 0);
  CHECK(q.direct.command({"EXISTS", DeliveryConsumer::progressKey(entry)}).integer == 0);
  // Kept for a replay of the same delivery, for checkpoint_ttl_hours (720 by default).
  const auto ttl = q.direct.command({"TTL", "conduit::checkpoints::x"}).integer;
  CHECK(ttl > 720 * 3600 - 60);
  CHECK(ttl <= 720 * 3600);
  auto letters = q.direct.command({"XRANGE", DeliveryConsumer::kDeadLetterStream, "-", "+"});
  REQUIRE(letters.elements.size() == 1);
  auto fields = conduit::testing::streamEntryFields(letters.elements[0]);
  CHECK(fields["delivery"] == "d-1");
  CHECK(fields["payload"] == R"({"action":"published"})");
  CHECK(fields["entry"] == entry);
  CHECK(fields["worker"] == "audit");
  CHECK(fields["error"] == "no such project");
  CHECK(fields["attempts"] == "3");
  CHECK_FALSE(fields["failed_at_ms"].empty());
  CHECK_FALSE(consumer.fetch(entry).has_value());
}

TEST_CASE("consumer: only the consumer holding an entry can finish it - once") {
  Queue q;
  q.queue.ensureConsumerGroup();
  const std::string entry = q.enqueue("d-1");
  DeliveryConsumer holder(q.pool, "host:1");
  DeliveryConsumer other(q.pool, "host:2");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  REQUIRE(holder.readNew(blocking, 10, milliseconds(100)).size() == 1);
  CHECK(holder.deliveryCount(entry) == 1);
  q.direct.command({"SET", "conduit::checkpoints::x", "1"});

  CHECK_FALSE(other.finish(entry, {FailedWorker{"w", "no"}}, 1, {"conduit::checkpoints::x"}));
  CHECK(q.pending() == 1);
  CHECK(q.direct.command({"TTL", "conduit::checkpoints::x"}).integer == -1);  // untouched
  CHECK(q.direct.command({"EXISTS", DeliveryConsumer::kDeadLetterStream}).integer == 0);

  CHECK(holder.finish(entry, {FailedWorker{"w", "no"}}, 1, {"conduit::checkpoints::x"}));
  CHECK_FALSE(holder.finish(entry, {FailedWorker{"w", "no"}}, 1, {}));  // a resend does nothing
  CHECK(q.direct.command({"XLEN", DeliveryConsumer::kDeadLetterStream}).integer == 1);
  CHECK(holder.deliveryCount(entry) == 0);
}

TEST_CASE("consumer: progress is written only by the consumer holding the entry") {
  Queue q;
  q.queue.ensureConsumerGroup();
  const std::string entry = q.enqueue("d-1");
  DeliveryConsumer holder(q.pool, "host:1");
  DeliveryConsumer stalled(q.pool, "host:2");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  REQUIRE(holder.readNew(blocking, 10, milliseconds(100)).size() == 1);
  CHECK(holder.owns(entry));
  CHECK_FALSE(stalled.owns(entry));

  DeliveryProgress progress;
  progress.attempts = 5;
  CHECK_FALSE(stalled.markStarted(entry, 5));
  CHECK_FALSE(stalled.saveProgress(entry, progress));
  CHECK(q.direct.command({"EXISTS", DeliveryConsumer::progressKey(entry)}).integer == 0);
  // Nor for an entry no one holds.
  CHECK(holder.finish(entry, {}, 1, {}));
  CHECK_FALSE(holder.markStarted(entry, 2));
  CHECK(q.direct.command({"EXISTS", DeliveryConsumer::progressKey(entry)}).integer == 0);
}

TEST_CASE("consumer: the gone consumers holding nothing are removed - no others") {
  Queue q;
  q.queue.ensureConsumerGroup();
  q.enqueue("d-1");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  DeliveryConsumer holding(q.pool, "holding");
  REQUIRE(holding.readNew(blocking, 10, milliseconds(100)).size() == 1);
  // A read that finds nothing makes no consumer: made as a first read with something would.
  for (const char* name : {"ghost", "live", "sweeper"}) {
    q.direct.command({"XGROUP", "CREATECONSUMER", QueueNames::kStream, QueueNames::kGroup, name});
  }
  q.direct.command({"HSET", "conduit::consumers::live", "token", "t"});
  DeliveryConsumer sweeper(q.pool, "sweeper");
  std::this_thread::sleep_for(milliseconds(200));

  CHECK(sweeper.removeGoneConsumers(std::chrono::seconds(60)).empty());  // none idle so long
  CHECK(sweeper.removeGoneConsumers(milliseconds(100)) == std::vector<std::string>{"ghost"});
  auto consumers =
      q.direct.command({"XINFO", "CONSUMERS", QueueNames::kStream, QueueNames::kGroup});
  CHECK(consumers.elements.size() == 3);  // holding, live, sweeper
  CHECK(q.pending() == 1);
}

TEST_CASE("consumer: another process took the consumer name - this one writes nothing") {
  // A process that stalled past its lease while another started under its name: both are the
  // same consumer to XPENDING, so only the lease tells them apart.
  Queue q;
  q.queue.ensureConsumerGroup();
  const std::string entry = q.enqueue("d-1");
  const std::string held = q.enqueue("d-2");
  DeliveryConsumer stalled(q.pool, "host:1", std::chrono::hours(720), "stalled-token");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  REQUIRE(stalled.readNew(blocking, 10, milliseconds(100)).size() == 2);
  // No lease (it expired, no one took it), or its own: the entry is its own.
  CHECK(stalled.owns(entry));
  q.direct.command({"HSET", "conduit::consumers::host:1", "token", "stalled-token"});
  CHECK(stalled.owns(entry));

  q.direct.command({"HSET", "conduit::consumers::host:1", "token", "successor-token"});
  q.direct.command({"SET", "conduit::checkpoints::x", "1"});
  DeliveryProgress progress;
  progress.attempts = 1;
  CHECK_FALSE(stalled.owns(entry));
  CHECK_FALSE(stalled.markStarted(entry, 1));
  CHECK_FALSE(stalled.saveProgress(entry, progress));
  CHECK(q.direct.command({"EXISTS", DeliveryConsumer::progressKey(entry)}).integer == 0);
  CHECK(stalled.keepHolding({entry, held}) == std::vector<std::string>{entry, held});
  CHECK_FALSE(stalled.finish(entry, {FailedWorker{"w", "no"}}, 1, {"conduit::checkpoints::x"}));
  CHECK(q.pending() == 2);
  CHECK(q.direct.command({"XLEN", QueueNames::kStream}).integer == 2);
  CHECK(q.direct.command({"TTL", "conduit::checkpoints::x"}).integer == -1);  // untouched
  CHECK(q.direct.command({"EXISTS", DeliveryConsumer::kDeadLetterStream}).integer == 0);

  // The successor, holding the name, does.
  DeliveryConsumer successor(q.pool, "host:1", std::chrono::hours(720), "successor-token");
  CHECK(successor.owns(entry));
  CHECK(successor.markStarted(entry, 1));
  CHECK(successor.keepHolding({entry, held}).empty());
  CHECK(successor.finish(entry, {}, 1, {"conduit::checkpoints::x"}));
  CHECK(q.pending() == 1);
}

TEST_CASE("consumer: a dead letter Redis has no memory for leaves the delivery pending") {
  // A script is not undone when one of its commands fails: XACK before the dead letter's XADD
  // (refused when out of memory) would end the delivery with no dead letter.
  Queue q;
  q.queue.ensureConsumerGroup();
  const std::string entry = q.enqueue("d-1");
  DeliveryConsumer holder(q.pool, "host:1");
  RedisConnection blocking(q.redis.endpoint(), std::chrono::seconds(3));
  REQUIRE(holder.readNew(blocking, 10, milliseconds(100)).size() == 1);
  q.direct.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  q.direct.command({"CONFIG", "SET", "maxmemory", "1"});
  CHECK_THROWS(holder.finish(entry, {FailedWorker{"w", "no"}}, 1, {}));
  q.direct.command({"CONFIG", "SET", "maxmemory", "0"});
  CHECK(q.pending() == 1);
  CHECK(holder.owns(entry));
  CHECK(q.direct.command({"EXISTS", DeliveryConsumer::kDeadLetterStream}).integer == 0);
  CHECK(holder.finish(entry, {FailedWorker{"w", "no"}}, 1, {}));
  CHECK(q.direct.command({"XLEN", DeliveryConsumer::kDeadLetterStream}).integer == 1);
  CHECK(q.pending() == 0);
}
