// The host side of the plugin API, driven by a real plugin loaded from its .so, with real state
// machines and the checkpoint store in a real Redis.
#include "plugin/plugin_host.hpp"

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "plugin/plugin_library.hpp"
#include "redis_server.hpp"
#include "statemachine/state_machine_loader.hpp"

using conduit::plugin::CheckpointStore;
using conduit::plugin::PluginHost;
using conduit::plugin::PluginLibrary;

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

// The sdk_echo test plugin, created and configured through the host.
struct EchoFixture {
  conduit::testing::RedisServer redis;
  conduit::store::RedisPool pool{redis.endpoint(), std::chrono::seconds(2)};
  CheckpointStore checkpoints{pool};
  PluginLibrary library = PluginLibrary::load(kPlugins, "sdk_echo");
  std::shared_ptr<const conduit::statemachine::StateMachines> current = machines();
  PluginHost host{PluginHost::Context{"echo-worker",
                                      "sdk_echo",
                                      {{"echo_greeting", "hey"}},
                                      [this] { return current; },
                                      &checkpoints}};
  conduit_instance* instance = nullptr;
  std::array<char, 512> buffer{};

  EchoFixture() {
    conduit_message error{buffer.data(), buffer.size(), 0};
    instance = library.descriptor().create(PluginHost::api(), host.handle(), &error);
    REQUIRE(instance != nullptr);
    const std::string project = "SOC";
    conduit_str projects[] = {str(project)};
    const std::string name = "echo-worker";
    const std::string json = "{}";
    conduit_config config{sizeof(conduit_config), str(name), str(json), projects, 1};
    REQUIRE(library.descriptor().configure(instance, &config, &error) == CONDUIT_STATUS_OK);
  }
  ~EchoFixture() { library.descriptor().destroy(instance); }

  conduit_outcome process(const std::string& entry_id, const std::string& title,
                          std::string* message = nullptr) {
    const std::string kind = "pull_request.merged";
    conduit_event event{};
    event.struct_size = sizeof event;
    event.attempt = 1;
    event.kind = str(kind);
    event.title = str(title);
    conduit_result result{sizeof(conduit_result), 0, {buffer.data(), buffer.size(), 0}};
    PluginHost::DeliveryScope scope(host, entry_id);
    auto outcome = library.descriptor().process(instance, &event, scope.handle(), &result);
    if (message != nullptr) *message = std::string(result.message.data, result.message.size);
    return outcome;
  }
};

}  // namespace

TEST_CASE("plugin host: state queries - config - counters and checkpoints reach a real plugin") {
  EchoFixture f;
  CHECK(f.process("1-0", "To Do") == CONDUIT_OUTCOME_OK);
  CHECK(f.host.counters().at("echo.events") == 1);

  // The plugin kept where it moved the issue, in Redis, under this entry and worker.
  auto redis = std::make_unique<conduit::store::RedisConnection>(f.redis.endpoint(),
                                                                 std::chrono::seconds(2));
  auto kept = redis->command({"HGET", CheckpointStore::redisKey("1-0", "echo-worker"), "done"});
  CHECK(kept.text == "In Progress");
  CHECK(redis->command({"TTL", CheckpointStore::redisKey("1-0", "echo-worker")}).integer > 0);
  CHECK(f.checkpoints.get("1-0", "echo-worker", "done") == "In Progress");

  // A retry of the same entry sees the checkpoint (and does not ask the state machine again).
  CHECK(f.process("1-0", "a status with no alias") == CONDUIT_OUTCOME_OK);
  // Another entry has its own store: this one asks, and is told why there is no answer.
  std::string why;
  CHECK(f.process("2-0", "Blocked", &why) == CONDUIT_OUTCOME_RETRY);
  CHECK(why == "the status \"Blocked\" has no alias in the state machine of soc (m.hcl)");

  f.checkpoints.erase("1-0", "echo-worker");
  CHECK_FALSE(f.checkpoints.get("1-0", "echo-worker", "done").has_value());
}

TEST_CASE("plugin host: a checkpoint store that is down is a RETRY - not a crash") {
  EchoFixture f;
  f.redis.stop();
  std::string why;
  CHECK(f.process("3-0", "To Do", &why) == CONDUIT_OUTCOME_RETRY);
  CHECK(why == "uncaught exception: the checkpoint store could not be read");
}

TEST_CASE("plugin host: a reload takes effect between deliveries - never within one") {
  EchoFixture f;
  auto before = f.current;
  PluginHost::DeliveryScope scope(f.host, "4-0");
  f.current = std::make_shared<const conduit::statemachine::StateMachines>();  // emptied
  // The scope pinned the machines it started with.
  const std::string project = "SOC", status = "To Do", event = "next";
  conduit_next answer{};
  answer.struct_size = sizeof answer;
  CHECK(PluginHost::api()->state_next(f.host.handle(), scope.handle(), str(project), str(status),
                                      str(event), &answer) == CONDUIT_STATUS_OK);
  CHECK(std::string(answer.status.data, answer.status.size) == "In Progress");
}

TEST_CASE("plugin host: checkpoint sizes are bounded - state queries need a delivery") {
  conduit::testing::RedisServer redis;
  conduit::store::RedisPool pool{redis.endpoint(), std::chrono::seconds(2)};
  CheckpointStore checkpoints(pool);
  CHECK_THROWS_AS(checkpoints.put("1-0", "w", std::string(257, 'k'), "v"), std::invalid_argument);
  CHECK_THROWS_AS(checkpoints.put("1-0", "w", "k", std::string(4097, 'v')), std::invalid_argument);
  CHECK_THROWS_AS(checkpoints.put("1-0", "w", "", "v"), std::invalid_argument);

  PluginHost host(PluginHost::Context{"w", "p", {}, machines, &checkpoints});
  const std::string project = "SOC", status = "To Do", event = "next";
  conduit_next answer{};
  answer.struct_size = sizeof answer;
  CHECK(PluginHost::api()->state_next(host.handle(), nullptr, str(project), str(status), str(event),
                                      &answer) == CONDUIT_STATUS_ERROR);
}

namespace {

using conduit::plugin::LeaseStore;

// A host with leases in a real Redis, and no plugin: the tests call the API table as a plugin
// would, inside a delivery scope.
struct LeaseFixture {
  conduit::testing::RedisServer redis;
  conduit::store::RedisPool pool{redis.endpoint(), std::chrono::seconds(2)};
  CheckpointStore checkpoints{pool};
  LeaseStore leases{pool};
  PluginHost host{PluginHost::Context{"w", "p", {}, machines, &checkpoints, &leases}};

  conduit_status acquire(const std::string& name, uint32_t ttl_ms, uint32_t wait_ms,
                         std::string* token = nullptr) {
    conduit_str held{};
    const auto status =
        PluginHost::api()->lease_acquire(host.handle(), str(name), ttl_ms, wait_ms, &held);
    if (token != nullptr) *token = std::string(held.data, held.size);
    return status;
  }
  conduit_status release(const std::string& name, const std::string& token) {
    return PluginHost::api()->lease_release(host.handle(), str(name), str(token));
  }
  conduit::store::RedisValue redisCommand(const conduit::store::RedisArgs& args) {
    conduit::store::RedisConnection connection(redis.endpoint(), std::chrono::seconds(2));
    return connection.command(args);
  }
};

}  // namespace

TEST_CASE("plugin host: a lease is one holder's until released - in Redis with an expiry") {
  LeaseFixture f;
  PluginHost::DeliveryScope scope(f.host, "1-0");
  CHECK(PluginHost::api()->struct_size >= sizeof(conduit_host_api));
  std::string token;
  REQUIRE(f.acquire("SOC-7", 60000, 0, &token) == CONDUIT_STATUS_OK);
  CHECK(token.size() == 32);
  const std::string key = LeaseStore::redisKey("w", "SOC-7");
  CHECK(key == "conduit::leases::w::SOC-7");
  CHECK(f.redisCommand({"GET", key}).text == token);
  const auto ttl = f.redisCommand({"PTTL", key}).integer;
  CHECK(ttl > 50000);
  CHECK(ttl <= 60000);

  // Another holder (another delivery, thread or process) is told BUSY, after its wait.
  CHECK(f.acquire("SOC-7", 60000, 0) == CONDUIT_STATUS_BUSY);
  const auto started = std::chrono::steady_clock::now();
  CHECK(f.acquire("SOC-7", 60000, 300) == CONDUIT_STATUS_BUSY);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(300));
  CHECK(f.acquire("SOC-8", 60000, 0) == CONDUIT_STATUS_OK);  // another name is free

  CHECK(f.release("SOC-7", token) == CONDUIT_STATUS_OK);
  CHECK(f.redisCommand({"EXISTS", key}).integer == 0);
  CHECK(f.release("SOC-7", token) == CONDUIT_STATUS_NOT_FOUND);  // already released
  CHECK(f.acquire("SOC-7", 60000, 0) == CONDUIT_STATUS_OK);
}

TEST_CASE(
    "plugin host: a dead holder's lease ends at its expiry - its late release frees "
    "nothing of the next holder's") {
  LeaseFixture f;
  PluginHost::DeliveryScope scope(f.host, "1-0");
  // A holder that dies without releasing: straight into the store, as a killed process leaves
  // it.
  auto dead =
      f.leases.acquire("w", "SOC-7", std::chrono::milliseconds(400), std::chrono::milliseconds(0));
  REQUIRE(dead);
  const auto started = std::chrono::steady_clock::now();
  std::string token;
  REQUIRE(f.acquire("SOC-7", 60000, 5000, &token) == CONDUIT_STATUS_OK);  // waits for the expiry
  const auto waited = std::chrono::steady_clock::now() - started;
  CHECK(waited >= std::chrono::milliseconds(300));
  CHECK(waited < std::chrono::milliseconds(4000));

  // The first holder comes back (a paused process) and releases: the check-and-delete leaves
  // the new holder's lease alone.
  CHECK_FALSE(f.leases.release("w", "SOC-7", *dead));
  CHECK(f.redisCommand({"GET", LeaseStore::redisKey("w", "SOC-7")}).text == token);
}

TEST_CASE("plugin host: leases still held when process() returns are released") {
  LeaseFixture f;
  {
    PluginHost::DeliveryScope scope(f.host, "1-0");
    REQUIRE(f.acquire("SOC-1", 60000, 0) == CONDUIT_STATUS_OK);
    std::string released;
    REQUIRE(f.acquire("SOC-2", 60000, 0, &released) == CONDUIT_STATUS_OK);
    CHECK(f.release("SOC-2", released) == CONDUIT_STATUS_OK);
    REQUIRE(f.acquire("SOC-2", 60000, 0) == CONDUIT_STATUS_OK);
  }
  CHECK(f.redisCommand({"EXISTS", LeaseStore::redisKey("w", "SOC-1")}).integer == 0);
  CHECK(f.redisCommand({"EXISTS", LeaseStore::redisKey("w", "SOC-2")}).integer == 0);
}

TEST_CASE("plugin host: leases - Redis down or bad arguments are ERROR - and only in process()") {
  LeaseFixture f;
  CHECK(f.acquire("SOC-1", 60000, 0) == CONDUIT_STATUS_ERROR);  // no delivery scope
  PluginHost::DeliveryScope scope(f.host, "1-0");
  CHECK(f.acquire("", 60000, 0) == CONDUIT_STATUS_ERROR);
  CHECK(f.acquire(std::string(257, 'k'), 60000, 0) == CONDUIT_STATUS_ERROR);
  CHECK(f.acquire("SOC-1", 0, 0) == CONDUIT_STATUS_ERROR);
  CHECK(f.acquire("SOC-1", 3600001, 0) == CONDUIT_STATUS_ERROR);
  CHECK(f.acquire("SOC-1", 1000, 600001) == CONDUIT_STATUS_ERROR);
  f.redis.stop();
  CHECK(f.acquire("SOC-1", 60000, 0) == CONDUIT_STATUS_ERROR);
  CHECK(f.release("SOC-1", "token") == CONDUIT_STATUS_ERROR);
}

TEST_CASE("plugin host: one holder at a time across threads and separate hosts and pools") {
  LeaseFixture f;
  // A second host on its own connections: another worker process, as Redis sees it.
  conduit::store::RedisPool other_pool{f.redis.endpoint(), std::chrono::seconds(2)};
  LeaseStore other_leases{other_pool};
  PluginHost other{PluginHost::Context{"w", "p", {}, machines, &f.checkpoints, &other_leases}};

  std::atomic<int> holders{0};
  std::atomic<int> most_at_once{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      PluginHost& host = i % 2 == 0 ? f.host : other;
      for (int round = 0; round < 5; ++round) {
        PluginHost::DeliveryScope scope(host, std::to_string(i) + "-" + std::to_string(round));
        const std::string name = "SOC-7";
        conduit_str token{};
        if (PluginHost::api()->lease_acquire(host.handle(), str(name), 10000, 20000, &token) !=
            CONDUIT_STATUS_OK) {
          continue;
        }
        const int now = ++holders;
        int seen = most_at_once.load();
        while (now > seen && !most_at_once.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        --holders;
        ++done;
        CHECK(PluginHost::api()->lease_release(host.handle(), str(name), token) ==
              CONDUIT_STATUS_OK);
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(done == 40);
  CHECK(most_at_once == 1);
}

TEST_CASE("plugin host: a later attempt takes back, by its token, a lease a dead process held") {
  LeaseFixture f;
  std::string token;
  {
    PluginHost::DeliveryScope first(f.host, "1-0");
    REQUIRE(f.acquire("SOC-7", 60000, 0, &token) == CONDUIT_STATUS_OK);
  }
  // The scope released it; as a killed process would not have, take it again by hand with the
  // same token.
  REQUIRE(f.redisCommand({"SET", LeaseStore::redisKey("w", "SOC-7"), token, "PX", "60000"}).text ==
          "OK");
  {
    PluginHost::DeliveryScope retry(f.host, "1-0");
    CHECK(PluginHost::api()->lease_extend(f.host.handle(), str("SOC-7"), str(token), 30000) ==
          CONDUIT_STATUS_OK);
    const auto ttl = f.redisCommand({"PTTL", LeaseStore::redisKey("w", "SOC-7")}).integer;
    CHECK(ttl <= 30000);
    CHECK(ttl > 20000);
    CHECK(PluginHost::api()->lease_extend(f.host.handle(), str("SOC-7"), str("not-the-token"),
                                          30000) == CONDUIT_STATUS_NOT_FOUND);
  }
  // Released with the scope, as one taken in it.
  CHECK(f.redisCommand({"EXISTS", LeaseStore::redisKey("w", "SOC-7")}).integer == 0);
}
