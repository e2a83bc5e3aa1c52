// Several `conduit serve` processes on one Redis, as a load balancer sees them: each holds the
// hook registry in memory, kept current by the change feed, so a hook registered, updated or
// deleted through one takes effect on the other within a second; hooks the original service
// writes are found at once; a secret changed behind their backs is taken after a recheck; bad
// signatures do not become Redis load; and known hooks are still checked while Redis is away.
#include <signal.h>

#include <fstream>

#include <doctest/doctest.h>
#include <httplib.h>

#include "process.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"

using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::githubSignature;
using conduit::testing::jsonString;
using conduit::testing::Process;
using conduit::testing::RedisServer;

namespace {

using namespace std::chrono_literals;

const std::string kBody = R"({"action":"opened","number":1})";

// One `conduit serve` process on the given Redis.
class Server {
 public:
  Server(const RedisServer& redis, const std::string& name) : port_(freeLoopbackPort()) {
    const std::string config = redis.directory() + "/" + name + ".env";
    std::ofstream(config) << "redis_url=" << redis.url() << "\nbind=127.0.0.1\nport=" << port_
                          << "\nredis_timeout_ms=500\n";
    process_ = std::make_unique<Process>(
        std::vector<std::string>{CONDUIT_BINARY, "serve", "--config", config});
    const bool up = eventually([&] {
      auto pong = client().Get("/conduit/ping");
      return pong && pong->status == 200;
    });
    REQUIRE_MESSAGE(up, process_->standardError());
  }
  ~Server() {
    process_->signal(SIGTERM);
    process_->wait();
  }

  httplib::Client client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(5);
    client.set_read_timeout(10);
    return client;
  }

  // Registers (POST register) or updates (PATCH update) github/<repo_id>; returns its secret.
  std::string registerHook(const std::string& repo_id, bool update = false) const {
    const std::string body =
        R"({"provider":"github","repo_path":"org/repo","repo_id":")" + repo_id + "\"}";
    auto response = update ? client().Patch("/conduit/webhooks/update", body, "application/json")
                           : client().Post("/conduit/webhooks/register", body, "application/json");
    REQUIRE(response);
    REQUIRE(response->status == (update ? 200 : 201));
    return jsonString(response->body, "/data/secret");
  }

  int deleteHook(const std::string& repo_id) const {
    auto response = client().Delete("/conduit/webhooks/github/" + repo_id);
    return response ? response->status : 0;
  }

  // A delivery signed with `secret`, with a delivery id no other has had; the answer's status.
  int deliver(const std::string& repo_id, const std::string& secret) const {
    auto response = client().Post("/conduit/webhooks/github/" + repo_id + "/payload",
                                  {{"X-GitHub-Event", "pull_request"},
                                   {"X-GitHub-Delivery", "d-" + std::to_string(++deliveries)},
                                   {"X-Hub-Signature-256", githubSignature(secret, kBody)}},
                                  kBody, "application/json");
    return response ? response->status : 0;
  }

  std::string log() const { return process_->standardError(); }

 private:
  int port_;
  std::unique_ptr<Process> process_;
  static inline int deliveries = 0;
};

// Polls `status()` until it answers `wanted`; how long that took, or nullopt past `limit`.
template <typename Status>
std::optional<std::chrono::milliseconds> timeUntil(int wanted, Status status,
                                                   std::chrono::milliseconds limit) {
  const auto started = std::chrono::steady_clock::now();
  while (true) {
    const bool done = status() == wanted;
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (done) return took;
    if (took > limit) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

// How many HGETALL Redis has run since its statistics were last reset.
long long hashReads(conduit::store::RedisConnection& redis) {
  const std::string info = redis.command({"INFO", "commandstats"}).text;
  const std::string field = "cmdstat_hgetall:calls=";
  const auto at = info.find(field);
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + field.size()));
}

}  // namespace

TEST_CASE(
    "scale-out: two servers on one Redis - register, update and delete through one, the "
    "other follows within a second") {
  RedisServer redis;
  Server one(redis, "one");
  Server two(redis, "two");
  CHECK(two.log().find("hook registry loaded from Redis: 0 hooks") != std::string::npos);

  const std::string secret = one.registerHook("app");
  auto took = timeUntil(
      202, [&] { return two.deliver("app", secret); }, 1s);
  REQUIRE_MESSAGE(took, "a hook registered through one server was refused by the other");
  MESSAGE("registered through one, accepted by the other after ", took->count(), " ms");
  CHECK(two.deliver("app", secret) == 202);  // now from its memory

  const std::string renewed = one.registerHook("app", /*update=*/true);
  took = timeUntil(
      202, [&] { return two.deliver("app", renewed); }, 1s);
  CHECK_MESSAGE(took, "an updated secret was refused by the other server");
  took = timeUntil(
      401, [&] { return two.deliver("app", secret); }, 1s);
  CHECK_MESSAGE(took, "the replaced secret was still accepted by the other server");

  REQUIRE(one.deleteHook("app") == 204);
  took = timeUntil(
      404, [&] { return two.deliver("app", renewed); }, 1s);
  REQUIRE_MESSAGE(took, "a hook deleted through one server was still accepted by the other");
  MESSAGE("deleted through one, refused by the other after ", took->count(), " ms");

  // And the other way round.
  const std::string again = two.registerHook("app");
  CHECK(one.deliver("app", again) == 202);
  REQUIRE(two.deleteHook("app") == 204);
  CHECK(timeUntil(
      404, [&] { return one.deliver("app", again); }, 1s));
}

TEST_CASE("scale-out: hooks and secrets written straight into Redis by another writer") {
  RedisServer redis;
  conduit::store::RedisConnection direct(redis.endpoint(), std::chrono::seconds(2));
  Server server(redis, "one");

  // The original service's registration: its layout, no change feed. Found at once.
  direct.command({"SADD", "providers::github", "legacy"});
  direct.command({"HSET", "secrets::github::legacy", "provider", "github", "repo_id", "legacy",
                  "repo_path", "go-batteries/legacy", "secret", "legacy-secret"});
  CHECK(server.deliver("legacy", "legacy-secret") == 202);

  // Its secret replaced behind the server's back: the first delivery signed with the new one
  // fails against the remembered secret, is checked once more against Redis's, and passes.
  direct.command({"HSET", "secrets::github::legacy", "secret", "rotated-secret"});
  CHECK(server.deliver("legacy", "rotated-secret") == 202);
  CHECK(server.deliver("legacy", "legacy-secret") == 401);
  CHECK(server.log().find("its secret was changed in Redis by another writer") !=
        std::string::npos);
}

TEST_CASE("scale-out: a burst of bad signatures reads the hook from Redis about once a second") {
  RedisServer redis;
  conduit::store::RedisConnection direct(redis.endpoint(), std::chrono::seconds(2));
  Server server(redis, "one");
  const std::string secret = server.registerHook("app");
  CHECK(server.deliver("app", secret) == 202);

  direct.command({"CONFIG", "RESETSTAT"});
  const auto started = std::chrono::steady_clock::now();
  int sent = 0;
  int refused = 0;
  while (std::chrono::steady_clock::now() - started < 2500ms) {
    ++sent;
    refused += server.deliver("app", "not-the-secret") == 401 ? 1 : 0;
  }
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(refused == sent);
  const long long reads = hashReads(direct);
  MESSAGE(sent, " bad signatures in ", seconds, " s: ", reads, " reads of the hook");
  CHECK(sent > 20);
  CHECK(reads >= 2);
  CHECK(reads <= static_cast<long long>(seconds) + 2);
}

TEST_CASE("scale-out: Redis away - a known hook is still checked, an unknown one is 503") {
  RedisServer redis;
  Server server(redis, "one");
  const std::string secret = server.registerHook("app");
  CHECK(server.deliver("app", secret) == 202);
  redis.stop();
  // The signature is checked against the secret in memory: refused as such, not for Redis.
  CHECK(server.deliver("app", "not-the-secret") == 401);
  CHECK(server.deliver("unknown", "whatever") == 503);
  CHECK(eventually([&] {
    return server.log().find("cannot read the hook registry's change feed") != std::string::npos;
  }));
  redis.start();
  CHECK(eventually([&] { return server.deliver("app", secret) == 202; }, 5s));
}
