// The enqueue step's atomicity against a real Redis that is killed (SIGKILL) at random moments
// while several threads enqueue, and restarted on the same append-only files (appendfsync
// always): what an enqueue answered must be there after the restart, and Redis must never hold
// an entry without its seen key, nor a delivery twice.

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"

using conduit::queue::Delivery;
using conduit::queue::DeliveryQueue;
using conduit::queue::EnqueueResult;
using conduit::queue::QueueNames;
using conduit::store::RedisConnection;
using conduit::store::RedisPool;
using conduit::store::RedisUnavailable;
using conduit::store::RedisValue;
using conduit::testing::RedisServer;
using namespace std::chrono_literals;

namespace {

// What an enqueue call answered.
struct Answer {
  std::string delivery_id;
  EnqueueResult result;
};

std::string payloadOf(const std::string& id) {
  // Large enough to go to the socket as its own segment.
  return R"({"delivery":")" + id + R"(","filler":")" + std::string(4000, 'x') + R"("})";
}

}  // namespace

TEST_CASE("enqueue atomicity: Redis killed at random moments - nothing half written or lost") {
  RedisServer redis;
  RedisPool pool(redis.endpoint(), 2s);
  DeliveryQueue queue(pool);

  constexpr int kThreads = 4;
  constexpr int kKills = 8;
  std::atomic<bool> stop{false};
  std::mutex answers_mutex;
  std::vector<Answer> answers;
  std::atomic<int> refused{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(t) + 1);
      int next = 0;
      std::string pending;  // an id Redis refused: sent again, as a code host would
      while (!stop) {
        std::string id;
        if (!pending.empty()) {
          id = pending;
        } else if (next > 3 && random() % 4 == 0) {
          // The same delivery again, from this thread or another one (ids are shared).
          id = "d-" + std::to_string(random() % kThreads) + "-" +
               std::to_string(random() % static_cast<unsigned>(next));
        } else {
          id = "d-" + std::to_string(t) + "-" + std::to_string(next++);
        }
        const std::string payload = payloadOf(id);
        Delivery delivery{"github", "repo", "org/repo", "push", id, 1700000000000 + next, payload};
        try {
          auto result = queue.enqueue(delivery);
          pending.clear();
          std::lock_guard lock(answers_mutex);
          answers.push_back({id, result});
        } catch (const RedisUnavailable&) {
          pending = id;
          ++refused;
          std::this_thread::sleep_for(2ms);
        }
      }
    });
  }

  std::mt19937 random(42);
  for (int kill = 0; kill < kKills; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 250));
    redis.kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 50));
    redis.start();
  }
  std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& thread : threads)
    thread.join();
  INFO("answers: " << answers.size() << ", refused: " << refused.load());
  REQUIRE(answers.size() > 100);
  CHECK(refused > 0);  // the kills did land while deliveries were on their way

  RedisConnection direct(redis.endpoint(), 5s);
  auto range = direct.command({"XRANGE", QueueNames::kStream, "-", "+"});
  std::map<std::string, std::string> entry_of;  // delivery id -> its entry
  std::map<std::string, std::string> delivery_of;
  for (const auto& item : range.elements) {
    auto fields = conduit::testing::streamEntryFields(item);
    const std::string& id = fields["delivery"];
    CHECK_MESSAGE(entry_of.count(id) == 0, "delivery " << id << " is in the stream twice");
    entry_of[id] = item.elements[0].text;
    delivery_of[item.elements[0].text] = id;
    CHECK(fields["payload"] == payloadOf(id));
  }

  // No entry without its seen key and record, each naming it (or '': being queued).
  for (const auto& [id, entry] : entry_of) {
    auto seen = direct.command({"GET", QueueNames::seenKey("github", "repo", id)});
    CHECK_MESSAGE(!seen.isNil(), "entry " << entry << " of " << id << " has no seen key");
    CHECK((seen.text == entry || seen.text.empty()));
    auto record = direct.command({"HGET", "conduit::log::github::repo::" + id, "entry"});
    CHECK_MESSAGE(!record.isNil(), "entry " << entry << " of " << id << " has no record");
    CHECK((record.text == entry || record.text.empty()));
  }

  // Every answer holds after the restarts: a queued delivery is in the stream under its entry,
  // a duplicate names the entry of the same delivery.
  int queued = 0;
  for (const auto& answer : answers) {
    auto it = entry_of.find(answer.delivery_id);
    CHECK_MESSAGE(it != entry_of.end(), "answered delivery " << answer.delivery_id << " is lost");
    if (it == entry_of.end()) continue;
    if (!answer.result.duplicate) {
      ++queued;
      CHECK(answer.result.entry_id == it->second);
    } else if (!answer.result.entry_id.empty()) {
      CHECK(answer.result.entry_id == it->second);
    }
  }
  // No seen key without its entry either: a seen key is written with its entry or not at all.
  std::set<std::string> seen_ids;
  std::string cursor = "0";
  do {
    auto page = direct.command({"SCAN", cursor, "MATCH", "conduit::seen::*", "COUNT", "1000"});
    cursor = page.elements[0].text;
    for (const auto& key : page.elements[1].elements) {
      const std::string id = key.text.substr(std::string("conduit::seen::github::repo::").size());
      CHECK_MESSAGE(entry_of.count(id) == 1, "seen key " << key.text << " has no entry");
    }
  } while (cursor != "0");
  MESSAGE("queued " << queued << " deliveries, " << answers.size() - queued
                    << " duplicates answered, " << refused.load()
                    << " refused while Redis was down");
}
