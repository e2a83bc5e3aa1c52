#include "queue/delivery_queue.hpp"

#include <map>

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
