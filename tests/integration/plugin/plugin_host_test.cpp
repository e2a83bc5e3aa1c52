// The host side of the plugin API, driven by a real plugin loaded from its .so, with real state
// machines and the checkpoint store in a real Redis.
#include "plugin/plugin_host.hpp"

#include <array>

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
  CHECK(PluginHost::api()->state_next(f.host.handle(), str(project), str(status), str(event),
                                      &answer) == CONDUIT_STATUS_OK);
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
  CHECK(PluginHost::api()->state_next(host.handle(), str(project), str(status), str(event),
                                      &answer) == CONDUIT_STATUS_ERROR);
}
