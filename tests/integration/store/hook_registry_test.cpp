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
