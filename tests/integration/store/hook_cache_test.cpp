// The registry in memory against a real redis-server: loaded whole, kept current by the change
// feed, a miss looked up in Redis, a mismatch rechecked at most once a second, and known hooks
// answering while Redis is away.
#include "store/hook_cache.hpp"

#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "process.hpp"
#include "redis_server.hpp"

using conduit::crypto::SecretBox;
using conduit::store::Hook;
using conduit::store::HookCache;
using conduit::store::HookCacheOptions;
using conduit::store::HookRegistry;
using conduit::store::HookWithSecret;
using conduit::store::RedisConnection;
using conduit::store::RedisPool;
using conduit::store::RedisUnavailable;
using conduit::store::SecretUnreadable;
using conduit::testing::eventually;
using conduit::testing::LogCapture;
using conduit::testing::RedisServer;

namespace {

using namespace std::chrono_literals;

// A cache whose poller the test steps with refresh(), and a second registry standing for another
// server: this cache is told nothing of its writes but what the feed says.
struct CacheFixture {
  explicit CacheFixture(HookCacheOptions options = {})
      : cache(own, {"github", "gitlab"}, options) {}

  // The original service's registration: the hash and the set, no feed.
  void writeAsOriginal(const std::string& repo_id, const std::string& secret) {
    direct.command({"SADD", "providers::github", repo_id});
    direct.command({"HSET", "secrets::github::" + repo_id, "provider", "github", "repo_id", repo_id,
                    "repo_path", "go-batteries/" + repo_id, "secret", secret});
  }
  void deleteAsOriginal(const std::string& repo_id) {
    direct.command({"DEL", "secrets::github::" + repo_id});
    direct.command({"SREM", "providers::github", repo_id});
  }

  // How many HGETALL Redis has run since its statistics were last reset.
  long long hashReads() {
    const std::string info = direct.command({"INFO", "commandstats"}).text;
    const auto at = info.find("cmdstat_hgetall:calls=");
    if (at == std::string::npos) return 0;
    return std::stoll(info.substr(at + std::string("cmdstat_hgetall:calls=").size()));
  }

  std::string secretOf(const std::string& repo_id) {
    auto hook = cache.lookup("github", repo_id);
    return hook ? hook->secret : "<none>";
  }

  RedisServer redis;
  RedisPool pool{redis.endpoint(), std::chrono::seconds(1)};
  RedisConnection direct{redis.endpoint(), std::chrono::seconds(2)};
  HookRegistry own{pool, std::nullopt};
  HookRegistry other_server{pool, std::nullopt};
  HookCache cache;
};

std::array<uint8_t, 32> key(uint8_t fill) {
  std::array<uint8_t, 32> k{};
  k.fill(fill);
  return k;
}

}  // namespace

TEST_CASE("hook cache: loaded whole at start - known hooks answer while Redis is away") {
  LogCapture log;
  CacheFixture f;
  f.other_server.create({"github", "a", "org/a"}, "secret-a");
  f.other_server.create({"github", "b", "org/b"}, "secret-b");
  f.other_server.create({"gitlab", "a", "group/a"}, "secret-gl");
  f.writeAsOriginal("legacy", "secret-legacy");

  f.cache.start();
  CHECK(f.cache.size() == 4);
  CHECK(log.text().find("hook registry loaded from Redis: 4 hooks") != std::string::npos);

  f.redis.stop();
  CHECK(f.secretOf("a") == "secret-a");
  CHECK(f.secretOf("legacy") == "secret-legacy");
  auto gitlab = f.cache.lookup("gitlab", "a");
  REQUIRE(gitlab);
  CHECK(gitlab->secret == "secret-gl");
  CHECK(gitlab->hook.repo_path == "group/a");
  // A hook the memory does not hold cannot be told from none without Redis: 503, not 404.
  CHECK_THROWS_AS(f.cache.lookup("github", "unknown"), RedisUnavailable);
  // Nor can a mismatch be rechecked; the remembered secret stands.
  CHECK_FALSE(f.cache.recheck(*f.cache.lookup("github", "b")));

  // The poller says once that it cannot read the feed, and keeps trying.
  CHECK_FALSE(f.cache.refresh());
  CHECK_FALSE(f.cache.refresh());
  const std::string text = log.text();
  const auto first = text.find("cannot read the hook registry's change feed from Redis");
  REQUIRE(first != std::string::npos);
  CHECK(text.find("cannot read the hook registry's change feed", first + 1) == std::string::npos);
  CHECK(text.find("the 4 hooks in memory keep answering") != std::string::npos);
  f.redis.start();
  CHECK(f.cache.refresh());
  CHECK(log.text().find("change feed in Redis is readable again") != std::string::npos);
  f.cache.stop();
}

TEST_CASE("hook cache: another server's register, update and delete are seen at the next poll") {
  CacheFixture f;
  CHECK(f.cache.refresh());
  f.other_server.create({"github", "a", "org/a"}, "s1");
  CHECK(f.cache.refresh());
  CHECK(f.cache.size() == 1);

  f.other_server.replaceSecret({"github", "a", "org/moved"}, "s2");
  CHECK(f.cache.refresh());
  f.redis.stop();  // what follows comes from memory
  auto hook = f.cache.lookup("github", "a");
  REQUIRE(hook);
  CHECK(hook->secret == "s2");
  CHECK(hook->hook.repo_path == "org/moved");
  f.redis.start();

  f.other_server.remove("github", "a");
  CHECK(f.cache.refresh());
  CHECK(f.cache.size() == 0);
  CHECK_FALSE(f.cache.lookup("github", "a"));
}

TEST_CASE("hook cache: writes through this process's own registry are seen by the next lookup") {
  CacheFixture f;
  f.cache.refresh();
  f.own.create({"github", "a", "org/a"}, "s1");
  CHECK(f.secretOf("a") == "s1");
  f.own.replaceSecret({"github", "a", "org/a"}, "s2");
  CHECK(f.secretOf("a") == "s2");  // no poll between
  f.own.remove("github", "a");
  CHECK(f.secretOf("a") == "<none>");
  f.own.create({"github", "a", "org/a"}, "s3");  // right after its miss was remembered
  CHECK(f.secretOf("a") == "s3");
}

TEST_CASE("hook cache: a feed that cannot say what changed makes it reload everything") {
  LogCapture log;
  CacheFixture f;
  f.other_server.create({"github", "a", "org/a"}, "s1");
  CHECK(f.cache.refresh());
  CHECK(f.cache.size() == 1);

  SUBCASE("the changes it needs were trimmed away") {
    // The original's hook bumps nothing; 20,000 changes later, the oldest 10,000 are gone.
    f.writeAsOriginal("legacy", "secret-legacy");
    std::vector<std::string> words;
    for (int i = 0; i < 10'000; ++i) {
      words.push_back(std::to_string(10'002 + i));
      words.push_back("github::gone-" + std::to_string(i));
    }
    std::vector<std::string_view> zadd = {"ZADD", "conduit::hooks::changes"};
    zadd.insert(zadd.end(), words.begin(), words.end());
    f.direct.command(zadd);
    f.direct.command({"ZREMRANGEBYRANK", "conduit::hooks::changes", "0", "-10001"});  // the trim
    f.direct.command({"SET", "conduit::hooks::generation", "20001"});
    CHECK(f.cache.refresh());
    CHECK(f.cache.size() == 2);
    CHECK(log.text().find("the changes since the last poll were trimmed") != std::string::npos);
  }
  SUBCASE("its generation went backwards: Redis was flushed") {
    f.direct.command({"FLUSHALL"});
    f.writeAsOriginal("legacy", "secret-legacy");
    f.direct.command({"SET", "conduit::hooks::generation", "0"});
    CHECK(f.cache.refresh());
    CHECK(f.cache.size() == 1);
    f.redis.stop();
    CHECK(f.secretOf("legacy") == "secret-legacy");
    CHECK_THROWS_AS(f.cache.lookup("github", "a"), RedisUnavailable);  // forgotten
    f.redis.start();
    CHECK(log.text().find("its generation went backwards") != std::string::npos);
  }
}

TEST_CASE("hook cache: the original service's hooks - new ones found at once, deletes at reload") {
  HookCacheOptions options;
  options.reload_interval = 300ms;
  CacheFixture f(options);
  CHECK(f.cache.refresh());
  f.writeAsOriginal("legacy", "secret-legacy");
  CHECK(f.secretOf("legacy") == "secret-legacy");  // no poll: looked up in Redis on the miss

  // Its delete bumps no generation: the remembered hook answers until everything is read again.
  f.deleteAsOriginal("legacy");
  CHECK(f.cache.refresh());
  CHECK(f.secretOf("legacy") == "secret-legacy");
  std::this_thread::sleep_for(350ms);
  CHECK(f.cache.refresh());
  CHECK(f.secretOf("legacy") == "<none>");
}

TEST_CASE("hook cache: no such hook is remembered for a second - a feed's news ends it early") {
  CacheFixture f;
  CHECK(f.cache.refresh());
  f.direct.command({"CONFIG", "RESETSTAT"});
  for (int i = 0; i < 20; ++i)
    CHECK_FALSE(f.cache.lookup("github", "nope"));
  CHECK(f.hashReads() == 1);

  // Written where no feed tells of it: found once the miss is forgotten.
  f.writeAsOriginal("nope", "secret");
  CHECK(f.secretOf("nope") == "<none>");
  CHECK(eventually([&] { return f.secretOf("nope") == "secret"; }, 3s));

  // Registered through another server right after a miss: found at the next poll.
  CHECK_FALSE(f.cache.lookup("github", "later"));
  f.other_server.create({"github", "later", "org/later"}, "s1");
  CHECK(f.cache.refresh());
  CHECK(f.secretOf("later") == "s1");
}

TEST_CASE("hook cache: many unknown ids - the misses remembered stay bounded") {
  HookCacheOptions options;
  options.max_misses = 8;
  CacheFixture f(options);
  CHECK(f.cache.refresh());
  for (int i = 0; i < 100; ++i)
    CHECK_FALSE(f.cache.lookup("github", "random-" + std::to_string(i)));
  // The memory was cleared to make room: the earliest ones are asked of Redis again.
  f.direct.command({"CONFIG", "RESETSTAT"});
  CHECK_FALSE(f.cache.lookup("github", "random-0"));
  CHECK(f.hashReads() == 1);
}

TEST_CASE("hook cache: recheck - a secret changed in Redis is taken, at most once a second") {
  CacheFixture f;
  f.other_server.create({"github", "a", "org/a"}, "old");
  CHECK(f.cache.refresh());
  const HookWithSecret remembered = *f.cache.lookup("github", "a");

  // Unchanged: nothing new.
  CHECK_FALSE(f.cache.recheck(remembered));
  std::this_thread::sleep_for(1100ms);

  // Another writer (the original service) replaces it, bumping no generation.
  f.direct.command({"HSET", "secrets::github::a", "secret", "new"});
  CHECK(f.secretOf("a") == "old");
  auto current = f.cache.recheck(remembered);
  REQUIRE(current);
  CHECK(current->secret == "new");
  CHECK(f.secretOf("a") == "new");  // remembered from now on

  // A burst of bad signatures costs Redis one read a second at most.
  f.direct.command({"HSET", "secrets::github::a", "secret", "newer"});
  f.direct.command({"CONFIG", "RESETSTAT"});
  const auto started = std::chrono::steady_clock::now();
  int answered = 0;
  while (std::chrono::steady_clock::now() - started < 1500ms) {
    if (auto again = f.cache.recheck(*current)) {
      ++answered;
      current = again;
    }
    std::this_thread::sleep_for(5ms);
  }
  CHECK(answered == 1);
  CHECK(current->secret == "newer");
  CHECK(f.hashReads() <= 2);

  // Gone from Redis: forgotten, and the next lookup finds none.
  std::this_thread::sleep_for(1100ms);
  f.deleteAsOriginal("a");
  CHECK_FALSE(f.cache.recheck(*current));
  CHECK(f.cache.size() == 0);
  CHECK(f.secretOf("a") == "<none>");
}

TEST_CASE("hook cache: a secret that cannot be read is remembered as such - also without Redis") {
  CacheFixture f;
  HookRegistry sealing(f.pool, SecretBox(key(7)));
  sealing.create({"github", "sealed", "org/sealed"}, "s1");
  CHECK(f.cache.refresh());  // its registry has no secret_key
  CHECK(f.cache.size() == 1);
  CHECK_THROWS_WITH_AS(f.cache.lookup("github", "sealed"),
                       doctest::Contains("no secret_key is configured"), SecretUnreadable);
  f.redis.stop();
  CHECK_THROWS_AS(f.cache.lookup("github", "sealed"), SecretUnreadable);
}

TEST_CASE("hook cache: the poller - starts without Redis, loads when it answers, stops at once") {
  LogCapture log;
  HookCacheOptions options;
  options.poll_interval = 50ms;
  CacheFixture f(options);
  f.other_server.create({"github", "a", "org/a"}, "s1");
  f.redis.stop();
  f.cache.start();  // not fatal
  CHECK(f.cache.size() == 0);
  CHECK_THROWS_AS(f.cache.lookup("github", "a"), RedisUnavailable);
  f.redis.start();
  CHECK(eventually([&] { return f.cache.size() == 1; }, 5s));
  CHECK(log.text().find("hook registry loaded from Redis: 1 hooks") != std::string::npos);

  // Kept current by its thread alone.
  f.other_server.create({"github", "b", "org/b"}, "s2");
  CHECK(eventually([&] { return f.cache.size() == 2; }, 2s));

  const auto stopping = std::chrono::steady_clock::now();
  f.cache.stop();
  CHECK(std::chrono::steady_clock::now() - stopping < 500ms);
}

TEST_CASE("hook cache: many threads read while the poller writes") {
  HookCacheOptions options;
  options.poll_interval = 1ms;
  CacheFixture f(options);
  for (int i = 0; i < 20; ++i)
    f.other_server.create({"github", "h" + std::to_string(i), "org/h"}, "s");
  f.cache.start();
  std::atomic<bool> done{false};
  std::atomic<int> found{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int i = 0; !done; ++i) {
        auto hook = f.cache.lookup("github", "h" + std::to_string((i + t) % 20));
        if (hook && hook->secret.size() == 1) ++found;
      }
    });
  }
  for (int round = 0; round < 30; ++round) {
    f.other_server.replaceSecret({"github", "h" + std::to_string(round % 20), "org/h"}, "t");
    std::this_thread::sleep_for(2ms);
  }
  done = true;
  for (auto& reader : readers)
    reader.join();
  CHECK(found > 0);
  f.cache.stop();
}
