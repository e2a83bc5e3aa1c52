#include "store/hook_registry.hpp"

#include <doctest/doctest.h>

#include "redis_server.hpp"

using conduit::crypto::SecretBox;
using conduit::store::Hook;
using conduit::store::HookRegistry;
using conduit::store::RedisConnection;
using conduit::store::RedisPool;
using conduit::store::SecretUnreadable;
using conduit::testing::RedisServer;
using Outcome = HookRegistry::Outcome;

namespace {

std::array<uint8_t, 32> key(uint8_t fill) {
  std::array<uint8_t, 32> k{};
  k.fill(fill);
  return k;
}

struct RegistryFixture {
  RedisServer redis;
  RedisPool pool{redis.endpoint(), std::chrono::seconds(2)};
  RedisConnection direct{redis.endpoint(), std::chrono::seconds(2)};
};

}  // namespace

TEST_CASE("registry: create - find - list - replace - remove") {
  RegistryFixture f;
  HookRegistry registry(f.pool, std::nullopt);
  const Hook hook{"github", "repo", "org/repo"};

  CHECK(registry.create(hook, "s1") == Outcome::kDone);
  CHECK(registry.create(hook, "s2") == Outcome::kAlreadyExists);
  CHECK(registry.lookup("github", "repo")->secret == "s1");

  auto found = registry.find("github", "repo");
  REQUIRE(found);
  CHECK(found->repo_path == "org/repo");
  CHECK_FALSE(registry.find("github", "other"));

  CHECK(registry.create({"github", "alpha", "org/alpha"}, "s3") == Outcome::kDone);
  auto hooks = registry.list("github");
  REQUIRE(hooks.size() == 2);
  CHECK(hooks[0].repo_id == "alpha");
  CHECK(hooks[1].repo_id == "repo");

  CHECK(registry.replaceSecret({"github", "repo", "org/renamed"}, "s4") == Outcome::kDone);
  CHECK(registry.lookup("github", "repo")->secret == "s4");
  CHECK(registry.find("github", "repo")->repo_path == "org/renamed");
  CHECK(registry.replaceSecret({"github", "nope", "org/nope"}, "s5") == Outcome::kNotFound);

  CHECK(registry.remove("github", "repo"));
  CHECK_FALSE(registry.remove("github", "repo"));
  CHECK_FALSE(registry.lookup("github", "repo"));
  CHECK(f.direct.command({"SISMEMBER", "providers::github", "repo"}).integer == 0);
}

TEST_CASE("registry: writes the original's layout - so the original can read it too") {
  RegistryFixture f;
  HookRegistry registry(f.pool, std::nullopt);
  registry.create({"github", "repo", "org/repo"}, "plain-secret");
  CHECK(f.direct.command({"SISMEMBER", "providers::github", "repo"}).integer == 1);
  auto fields = f.direct.command(
      {"HMGET", "secrets::github::repo", "provider", "repo_id", "repo_path", "secret"});
  CHECK(fields.elements[0].text == "github");
  CHECK(fields.elements[1].text == "repo");
  CHECK(fields.elements[2].text == "org/repo");
  CHECK(fields.elements[3].text == "plain-secret");
}

TEST_CASE("registry: hooks the original registered keep working") {
  RegistryFixture f;
  f.direct.command({"SADD", "providers::github", "legacy"});
  f.direct.command({"HSET", "secrets::github::legacy", "provider", "github", "repo_id", "legacy",
                    "repo_path", "go-batteries/legacy", "secret", "old-secret"});
  // Even with a secret_key configured: plain secrets written before are still read.
  HookRegistry registry(f.pool, SecretBox(key(7)));
  auto hook = registry.lookup("github", "legacy");
  REQUIRE(hook);
  CHECK(hook->secret == "old-secret");
  CHECK(hook->hook.repo_path == "go-batteries/legacy");
  CHECK(registry.list("github").size() == 1);
}

TEST_CASE("registry: with a secret_key - secrets are sealed at rest and never stored in plain") {
  RegistryFixture f;
  HookRegistry registry(f.pool, SecretBox(key(7)));
  registry.create({"github", "repo", "org/repo"}, "the-secret");

  auto all = f.direct.command({"HGETALL", "secrets::github::repo"});
  for (const auto& element : all.elements)
    CHECK(element.text.find("the-secret") == std::string::npos);
  CHECK(f.direct.command({"HEXISTS", "secrets::github::repo", "secret"}).integer == 0);
  CHECK(f.direct.command({"HGET", "secrets::github::repo", "secret_key_id"}).text ==
        SecretBox(key(7)).keyId());
  CHECK(registry.lookup("github", "repo")->secret == "the-secret");

  // Replacing a plain (original) secret removes the plain field.
  f.direct.command({"HSET", "secrets::github::repo", "secret", "stale-plain"});
  registry.replaceSecret({"github", "repo", "org/repo"}, "newer");
  CHECK(f.direct.command({"HEXISTS", "secrets::github::repo", "secret"}).integer == 0);
  CHECK(registry.lookup("github", "repo")->secret == "newer");
}

TEST_CASE("registry: a secret sealed with another key - or with none configured - is unreadable") {
  RegistryFixture f;
  HookRegistry sealing(f.pool, SecretBox(key(7)));
  sealing.create({"github", "repo", "org/repo"}, "the-secret");

  HookRegistry other_key(f.pool, SecretBox(key(8)));
  CHECK_THROWS_WITH_AS(other_key.lookup("github", "repo"), doctest::Contains("does not decrypt"),
                       SecretUnreadable);
  HookRegistry no_key(f.pool, std::nullopt);
  CHECK_THROWS_WITH_AS(no_key.lookup("github", "repo"),
                       doctest::Contains("no secret_key is configured"), SecretUnreadable);

  // A ciphertext moved onto another hook does not open there.
  auto sealed = f.direct.command({"HGET", "secrets::github::repo", "secret_encrypted"}).text;
  sealing.create({"github", "other", "org/other"}, "x");
  f.direct.command({"HSET", "secrets::github::other", "secret_encrypted", sealed});
  CHECK_THROWS_AS(sealing.lookup("github", "other"), SecretUnreadable);
}

TEST_CASE("registry: Redis away is RedisUnavailable - back again - the pool reconnects") {
  RegistryFixture f;
  HookRegistry registry(f.pool, std::nullopt);
  registry.create({"github", "repo", "org/repo"}, "s1");
  f.redis.stop();
  CHECK_THROWS_AS(registry.lookup("github", "repo"), conduit::store::RedisUnavailable);
  f.redis.start();
  CHECK(registry.lookup("github", "repo")->secret == "s1");
}

TEST_CASE("registry: each write bumps the change feed in the same script - failed writes do not") {
  RegistryFixture f;
  HookRegistry registry(f.pool, std::nullopt);
  auto generation = [&] { return f.direct.command({"GET", "conduit::hooks::generation"}); };
  auto score = [&](const char* member) {
    return f.direct.command({"ZSCORE", "conduit::hooks::changes", member}).text;
  };
  CHECK(generation().isNil());

  registry.create({"github", "repo", "org/repo"}, "s1");
  CHECK(generation().text == "1");
  CHECK(score("github::repo") == "1");
  registry.create({"gitlab", "repo", "org/repo"}, "s1");
  CHECK(score("gitlab::repo") == "2");
  registry.replaceSecret({"github", "repo", "org/repo"}, "s2");
  CHECK(score("github::repo") == "3");
  registry.remove("github", "repo");
  CHECK(generation().text == "4");
  CHECK(score("github::repo") == "4");

  // Nothing changed: nothing to tell the other servers.
  CHECK(registry.create({"gitlab", "repo", "org/repo"}, "s3") == Outcome::kAlreadyExists);
  CHECK(registry.replaceSecret({"github", "gone", "org/gone"}, "s3") == Outcome::kNotFound);
  CHECK_FALSE(registry.remove("github", "repo"));
  CHECK(generation().text == "4");
  CHECK(f.direct.command({"ZCARD", "conduit::hooks::changes"}).integer == 2);
}

TEST_CASE("registry: the changes set keeps its newest 10,000 members") {
  RegistryFixture f;
  HookRegistry registry(f.pool, std::nullopt);
  std::vector<std::string> members;
  for (int i = 0; i < 10'000; ++i)
    members.push_back("github::old-" + std::to_string(i));
  std::vector<std::string_view> zadd = {"ZADD", "conduit::hooks::changes"};
  std::vector<std::string> scores;
  scores.reserve(members.size());
  for (int i = 0; i < 10'000; ++i) {
    scores.push_back(std::to_string(i + 1));
    zadd.push_back(scores.back());
    zadd.push_back(members[static_cast<size_t>(i)]);
  }
  f.direct.command(zadd);
  f.direct.command({"SET", "conduit::hooks::generation", "10000"});

  registry.create({"github", "repo", "org/repo"}, "s1");
  CHECK(f.direct.command({"ZCARD", "conduit::hooks::changes"}).integer == 10'000);
  CHECK(f.direct.command({"ZSCORE", "conduit::hooks::changes", "github::repo"}).text == "10001");
  CHECK(f.direct.command({"ZSCORE", "conduit::hooks::changes", "github::old-0"}).isNil());
  CHECK(f.direct.command({"ZSCORE", "conduit::hooks::changes", "github::old-1"}).text == "2");
}

TEST_CASE("registry: changesSince - what the feed says changed, as Redis holds it now") {
  RegistryFixture f;
  HookRegistry registry(f.pool, std::nullopt);
  registry.create({"github", "a", "org/a"}, "s1");
  registry.create({"github", "b", "org/b"}, "s1");
  CHECK_FALSE(registry.changesSince(2));

  registry.replaceSecret({"github", "a", "org/a"}, "s2");
  registry.remove("github", "b");
  auto changes = registry.changesSince(2);
  REQUIRE(changes);
  CHECK(changes->complete);
  CHECK(changes->generation == 4);
  REQUIRE(changes->present.size() == 1);
  CHECK(changes->present[0].hook.secret == "s2");
  REQUIRE(changes->removed.size() == 1);
  CHECK(changes->removed[0] == std::pair<std::string, std::string>("github", "b"));

  // Redis flushed and written again: the generation went backwards.
  f.direct.command({"FLUSHALL"});
  registry.create({"github", "c", "org/c"}, "s1");
  changes = registry.changesSince(4);
  REQUIRE(changes);
  CHECK_FALSE(changes->complete);
}
