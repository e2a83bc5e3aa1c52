// ABI 1.4 on the host side, with a real Redis: claims (first delivery wins, kept for the
// worker's checkpoint_ttl_hours), the host called from a plugin's own threads (state queries,
// checkpoints, reports, leases and claims, through the threaded test plugin's real .so), and
// plugins built for 1.3 served through the table of their own minor (the abi_1_3 test plugin).
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <conduit/testing.hpp>

#include <doctest/doctest.h>

#include "plugin/claim_store.hpp"
#include "plugin/lease_store.hpp"
#include "plugin/plugin_instance.hpp"
#include "plugin/plugin_library.hpp"
#include "redis_server.hpp"
#include "statemachine/state_machine_loader.hpp"

using conduit::plugin::CheckpointStore;
using conduit::plugin::ClaimStore;
using conduit::plugin::DeliveryFacts;
using conduit::plugin::LeaseStore;
using conduit::plugin::PluginHost;
using conduit::plugin::PluginInstance;
using conduit::plugin::PluginLibrary;
using conduit::plugin::ProcessOutcome;
using conduit::plugin::SharedPlugin;

namespace {

const std::string kPlugins = CONDUIT_TEST_PLUGIN_DIR;

std::shared_ptr<const conduit::statemachine::StateMachines> machines() {
  auto result = conduit::statemachine::loadStateMachines({{"m.hcl", R"(provisioner "soc" {
  aliasmapper "soc" {
    aliases = { to_do: "To Do", in_progress: "In Progress" }
  }
  statemachine "soc" {
    initial = "to_do"
    state "to_do" "next" { transition = "in_progress" }
    state "in_progress" "next" { transition = "<end>" }
  }
}
)"}});
  REQUIRE(result.errors.empty());
  return std::make_shared<const conduit::statemachine::StateMachines>(std::move(result.machines));
}

conduit_str str(const std::string& s) {
  return conduit_str{s.data(), s.size()};
}

std::string text(conduit_str s) {
  return s.size == 0 ? std::string() : std::string(s.data, s.size);
}

using Fields = std::map<std::string, std::string>;

Fields fieldsOf(const std::string& json) {
  std::string error;
  auto fields = conduit::sdk::testing::detail::FlatJsonReader(json).read(error);
  INFO(json);
  REQUIRE_MESSAGE(fields.has_value(), error);
  return *fields;
}

// Redis, the stores a worker has, and a host for the worker `w` with claims kept 2 hours.
struct Stores {
  conduit::testing::RedisServer redis;
  conduit::store::RedisPool pool{redis.endpoint(), std::chrono::seconds(2)};
  CheckpointStore checkpoints{pool, std::chrono::hours(2)};
  LeaseStore leases{pool};
  ClaimStore claims{pool, std::chrono::hours(2)};

  PluginHost::Context context(const std::string& plugin) {
    PluginHost::Context made{"w", plugin, {}, machines, &checkpoints, &leases};
    made.claims = &claims;
    return made;
  }
  conduit::store::RedisValue redisCommand(const conduit::store::RedisArgs& args) {
    conduit::store::RedisConnection connection(redis.endpoint(), std::chrono::seconds(2));
    return connection.command(args);
  }
};

// Calls claim through the API table, as a plugin does.
conduit_status claim(PluginHost& host, PluginHost::DeliveryScope& scope, const std::string& name,
                     std::string* owner = nullptr) {
  conduit_str held{};
  const auto status = PluginHost::api()->claim(host.handle(), scope.handle(), str(name), &held);
  if (owner != nullptr) *owner = text(held);
  return status;
}

}  // namespace

TEST_CASE("claims: the first delivery to claim a name keeps it - in Redis with an expiry") {
  Stores s;
  PluginHost host(s.context("p"));
  std::string owner;
  {
    PluginHost::DeliveryScope first(host, "github::r1::d-1");
    CHECK(claim(host, first, "smart:abc123", &owner) == CONDUIT_STATUS_OK);
    CHECK(owner.empty());
    // Claiming again in the same delivery (another thread of it, say) is still ours.
    CHECK(claim(host, first, "smart:abc123") == CONDUIT_STATUS_OK);
  }
  const std::string key = ClaimStore::redisKey("w", "smart:abc123");
  CHECK(key == "conduit::claims::w::smart:abc123");
  CHECK(s.redisCommand({"GET", key}).text == "github::r1::d-1");
  const auto ttl = s.redisCommand({"TTL", key}).integer;
  CHECK(ttl > 7000);
  CHECK(ttl <= 7200);

  {
    // Another delivery (a rebase pushing the commit again) is told whose it is.
    PluginHost::DeliveryScope second(host, "github::r1::d-2");
    CHECK(claim(host, second, "smart:abc123", &owner) == CONDUIT_STATUS_BUSY);
    CHECK(owner == "github::r1::d-1");
    CHECK(claim(host, second, "smart:def456") == CONDUIT_STATUS_OK);  // another name is free
    // NULL for owner is allowed.
    CHECK(PluginHost::api()->claim(host.handle(), second.handle(), str("smart:abc123"), nullptr) ==
          CONDUIT_STATUS_BUSY);
  }
  {
    // A retry or replay of the first delivery (the same identity) finds it its own.
    PluginHost::DeliveryScope replay(host, "github::r1::d-1");
    CHECK(claim(host, replay, "smart:abc123") == CONDUIT_STATUS_OK);
  }
  // Claims are per worker: another worker's plugin claims the same name for itself.
  PluginHost::Context with_claims{"other", "p", {}, machines, &s.checkpoints, &s.leases};
  with_claims.claims = &s.claims;
  PluginHost other_worker(std::move(with_claims));
  PluginHost::DeliveryScope third(other_worker, "github::r1::d-3");
  CHECK(claim(other_worker, third, "smart:abc123") == CONDUIT_STATUS_OK);
}

TEST_CASE("claims: one winner among deliveries claiming a name at once - from many threads") {
  Stores s;
  PluginHost host(s.context("p"));
  conduit::store::RedisPool other_pool{s.redis.endpoint(), std::chrono::seconds(2)};
  ClaimStore other_claims{other_pool, std::chrono::hours(2)};
  PluginHost::Context other_context{"w", "p", {}, machines, &s.checkpoints, &s.leases};
  other_context.claims = &other_claims;
  PluginHost other(std::move(other_context));  // another worker process, as Redis sees it

  std::vector<std::string> answers(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      PluginHost& mine = i % 2 == 0 ? host : other;
      PluginHost::DeliveryScope scope(mine, "github::r1::d-" + std::to_string(i));
      std::string owner;
      const auto status = claim(mine, scope, "smart:race", &owner);
      answers[i] = status == CONDUIT_STATUS_OK     ? "ours"
                   : status == CONDUIT_STATUS_BUSY ? owner
                                                   : "error";
    });
  }
  for (auto& thread : threads)
    thread.join();
  const std::string winner = s.redisCommand({"GET", ClaimStore::redisKey("w", "smart:race")}).text;
  int ours = 0;
  for (int i = 0; i < 8; ++i) {
    CAPTURE(i);
    if (answers[i] == "ours") {
      ++ours;
      CHECK(winner == "github::r1::d-" + std::to_string(i));
    } else {
      CHECK(answers[i] == winner);
    }
  }
  CHECK(ours == 1);
}

TEST_CASE("claims: ERROR for a name out of range - Redis down - no store - outside process()") {
  Stores s;
  PluginHost host(s.context("p"));
  {
    PluginHost::DeliveryScope scope(host, "github::r1::d-1");
    CHECK(claim(host, scope, "") == CONDUIT_STATUS_ERROR);
    CHECK(claim(host, scope, std::string(257, 'n')) == CONDUIT_STATUS_ERROR);
    CHECK(claim(host, scope, std::string(256, 'n')) == CONDUIT_STATUS_OK);
    s.redis.stop();
    CHECK(claim(host, scope, "smart:abc") == CONDUIT_STATUS_ERROR);
    s.redis.start();
    CHECK(claim(host, scope, "smart:abc") == CONDUIT_STATUS_OK);
  }
  // A delivery handle kept past its process() call names nothing any more.
  std::optional<PluginHost::DeliveryScope> gone;
  gone.emplace(host, "github::r1::d-2");
  conduit_delivery* stale = gone->handle();
  gone.reset();
  CHECK(PluginHost::api()->claim(host.handle(), stale, str("smart:x"), nullptr) ==
        CONDUIT_STATUS_ERROR);
  CHECK(PluginHost::api()->claim(host.handle(), nullptr, str("smart:x"), nullptr) ==
        CONDUIT_STATUS_ERROR);
  // A host without a claim store (a tool that runs plugins without Redis) refuses.
  PluginHost bare(PluginHost::Context{"w", "p", {}, machines, &s.checkpoints, &s.leases});
  PluginHost::DeliveryScope scope(bare, "github::r1::d-3");
  CHECK(claim(bare, scope, "smart:abc") == CONDUIT_STATUS_ERROR);
}

TEST_CASE("ABI 1.4: a 1.4 plugin's table reaches claim - a 1.0 to 1.3 plugin's ends before it") {
  const auto* current = PluginHost::api(CONDUIT_ABI_MINOR);
  CHECK(current == PluginHost::api());
  CHECK(current->struct_size == sizeof(conduit_host_api));
  CHECK(CONDUIT_STRUCT_HAS(current, conduit_host_api, claim));
  CHECK(static_cast<bool>(current->claim));
  for (uint16_t minor = 0; minor < 4; ++minor) {
    CAPTURE(minor);
    const auto* legacy = PluginHost::api(minor);
    CHECK_FALSE(CONDUIT_STRUCT_HAS(legacy, conduit_host_api, claim));
    CHECK(CONDUIT_STRUCT_HAS(legacy, conduit_host_api, report));
    CHECK(static_cast<bool>(legacy->report == current->report));
    CHECK(static_cast<bool>(legacy->checkpoint_get == current->checkpoint_get));
  }
}

TEST_CASE("leases: from a plugin's own thread during process() - the plugin's to release") {
  Stores s;
  PluginHost host(s.context("p"));
  auto acquire = [&](const std::string& name, std::string* token = nullptr) {
    conduit_str held{};
    const auto status = PluginHost::api()->lease_acquire(host.handle(), str(name), 60000, 0, &held);
    if (token != nullptr) *token = text(held);
    return status;
  };
  auto onAnotherThread = [](auto work) {
    std::thread thread(work);
    thread.join();
  };
  // No process() call running: refused on any thread.
  conduit_status status = CONDUIT_STATUS_OK;
  onAnotherThread([&] { status = acquire("SOC-1"); });
  CHECK(status == CONDUIT_STATUS_ERROR);

  std::string thread_token, moved_token;
  {
    PluginHost::DeliveryScope scope(host, "github::r1::d-1");
    onAnotherThread([&] { status = acquire("SOC-1", &thread_token); });
    CHECK(status == CONDUIT_STATUS_OK);
    CHECK(thread_token.size() == 32);
    CHECK(acquire("SOC-1") == CONDUIT_STATUS_BUSY);  // held: by the plugin's thread
    REQUIRE(acquire("SOC-2") == CONDUIT_STATUS_OK);  // on the process() thread
    // One taken on the process() thread and released on another is released once, there.
    REQUIRE(acquire("SOC-3", &moved_token) == CONDUIT_STATUS_OK);
    onAnotherThread([&] {
      status = PluginHost::api()->lease_release(host.handle(), str("SOC-3"), str(moved_token));
    });
    CHECK(status == CONDUIT_STATUS_OK);
  }
  // The process() thread's lease ended with the call; the plugin thread's is still held.
  CHECK(s.redisCommand({"EXISTS", LeaseStore::redisKey("w", "SOC-2")}).integer == 0);
  CHECK(s.redisCommand({"GET", LeaseStore::redisKey("w", "SOC-1")}).text == thread_token);
  CHECK(s.redisCommand({"EXISTS", LeaseStore::redisKey("w", "SOC-3")}).integer == 0);
  CHECK(PluginHost::api()->lease_release(host.handle(), str("SOC-1"), str(thread_token)) ==
        CONDUIT_STATUS_OK);
}

namespace {

// A worker running `plugin` through the real host side of the ABI, with every store.
struct Worker {
  Worker(Stores& stores, const std::string& plugin)
      : shared(std::make_shared<SharedPlugin>(PluginLibrary::load(kPlugins, plugin))),
        instance(shared, entry(plugin), stores.context(plugin)) {}

  static conduit::config::WorkerEntry entry(const std::string& plugin) {
    conduit::config::WorkerEntry worker;
    worker.name = "w";
    worker.plugin = plugin;
    worker.settings_json = "{}";
    worker.projects = {"SOC"};
    return worker;
  }

  ProcessOutcome process(const std::string& kind, const std::string& title,
                         const std::string& delivery_id) {
    conduit::providers::Event event;
    event.kind = kind;
    event.title = title;
    DeliveryFacts facts;
    facts.entry_id = "1-0";
    facts.provider = "github";
    facts.repo_id = "r1";
    facts.repo_path = "org/repo";
    facts.delivery_id = delivery_id;
    return instance.process(event, facts);
  }

  std::shared_ptr<SharedPlugin> shared;
  PluginInstance instance;
};

}  // namespace

TEST_CASE("threads: a plugin's own threads query - checkpoint - lease - claim and report") {
  Stores s;
  Worker worker(s, "threaded");
  CHECK(worker.shared->descriptor().abi_minor == CONDUIT_ABI_MINOR);

  auto first = worker.process("work", "smart:abc123", "d-1");
  INFO(first.message);
  REQUIRE(first.kind == ProcessOutcome::Kind::kOk);
  REQUIRE(first.actions.size() == 6);  // one report per thread
  std::set<std::string> threads;
  for (const auto& json : first.actions) {
    auto fields = fieldsOf(json);
    CHECK(fields.at("action") == "claimed");
    CHECK(fields.at("claim") == "ours");
    threads.insert(fields.at("thread"));
  }
  CHECK(threads.size() == 6);
  // Their checkpoints are the delivery's, in Redis.
  const auto identity = CheckpointStore::deliveryIdentity("github", "r1", "d-1", "1-0");
  CHECK(s.checkpoints.get(identity, "w", "t5.2") == "vt5.2");
  // Every lease the threads took was released by them.
  CHECK(s.redisCommand({"KEYS", "conduit::leases::*"}).elements.empty());

  // Another delivery naming the same claim: every thread is told it is the first one's.
  auto second = worker.process("work", "smart:abc123", "d-2");
  INFO(second.message);
  REQUIRE(second.kind == ProcessOutcome::Kind::kOk);
  REQUIRE(second.actions.size() == 6);
  for (const auto& json : second.actions)
    CHECK(fieldsOf(json).at("claim") == "github::r1::d-1");

  // A replay of the first: ours again.
  auto replay = worker.process("work", "smart:abc123", "d-1");
  REQUIRE(replay.kind == ProcessOutcome::Kind::kOk);
  for (const auto& json : replay.actions)
    CHECK(fieldsOf(json).at("claim") == "ours");
}

TEST_CASE(
    "threads: a lease a plugin thread keeps outlives process() - the process() one does not") {
  Stores s;
  Worker worker(s, "threaded");
  auto answer = worker.process("keep", "SOC-9", "d-1");
  INFO(answer.message);
  REQUIRE(answer.kind == ProcessOutcome::Kind::kOk);
  CHECK(s.redisCommand({"EXISTS", LeaseStore::redisKey("w", "SOC-9-on-thread")}).integer == 1);
  CHECK(s.redisCommand({"EXISTS", LeaseStore::redisKey("w", "SOC-9-on-process")}).integer == 0);
}

TEST_CASE("ABI 1.3: a plugin built for 1.3 gets right answers through the table of its minor") {
  Stores s;
  Worker worker(s, "abi_1_3");
  CHECK(worker.shared->descriptor().abi_minor == 3);

  auto moved = worker.process("pull_request.merged", "To Do", "d-1");
  REQUIRE(moved.kind == ProcessOutcome::Kind::kOk);
  REQUIRE(moved.actions.size() == 1);
  const auto fields = fieldsOf(moved.actions[0]);
  CHECK(fields.at("next") == std::to_string(CONDUIT_STATUS_OK));
  CHECK(fields.at("status") == "In Progress");
  CHECK(fields.at("path") == std::to_string(CONDUIT_STATUS_OK));
  CHECK(fields.at("events") == "1");
  CHECK(fields.at("table") == std::to_string(offsetof(conduit_host_api, claim)));

  // The machine's NOT_FOUND, with its reason, reaches it the same way.
  auto unknown = worker.process("pull_request.merged", "Blocked", "d-2");
  REQUIRE(unknown.kind == ProcessOutcome::Kind::kOk);
  REQUIRE(unknown.actions.size() == 1);
  const auto why = fieldsOf(unknown.actions[0]);
  CHECK(why.at("next") == std::to_string(CONDUIT_STATUS_NOT_FOUND));
  CHECK(why.at("error_bytes") != "0");
  CHECK(why.at("path") == std::to_string(CONDUIT_STATUS_NOT_FOUND));
}
