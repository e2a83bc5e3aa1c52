#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>

#include <array>
#include <map>

#include <doctest/doctest.h>

#include "process.hpp"
#include "queue/delivery_queue.hpp"
#include "server_fixture.hpp"

using conduit::queue::QueueNames;
using conduit::testing::githubSignature;
using conduit::testing::jsonString;
using conduit::testing::ServerFixture;

namespace {

const std::string kBody = R"({"action":"closed","pull_request":{"merged":true,"title":"SOC-12"}})";

long long queueLength(const ServerFixture& server) {
  return server.redisClient()->command({"XLEN", QueueNames::kStream}).integer;
}

// Sends raw bytes and returns the start of the answer (or "" when none came in time).
std::string rawExchange(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string answer;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
    answer.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  return answer;
}

}  // namespace

TEST_CASE("payload: a signed delivery is queued durably and answered 202") {
  ServerFixture server;
  const std::string secret = server.registerHook("repo", "org/repo");
  auto response = server.deliver("repo", kBody, secret, "pull_request", "72d3162e-1");
  REQUIRE(response);
  CHECK(response->status == 202);
  CHECK(jsonString(response->body, "/data/delivery") == "72d3162e-1");
  CHECK(response->body.find(R"("duplicate":false)") != std::string::npos);

  auto entries = server.redisClient()->command({"XRANGE", QueueNames::kStream, "-", "+"});
  REQUIRE(entries.elements.size() == 1);
  auto fields = conduit::testing::streamEntryFields(entries.elements[0]);
  CHECK(fields["provider"] == "github");
  CHECK(fields["repo_id"] == "repo");
  CHECK(fields["repo_path"] == "org/repo");
  CHECK(fields["event"] == "pull_request");
  CHECK(fields["delivery"] == "72d3162e-1");
  CHECK(fields["payload"] == kBody);
  CHECK(std::stoll(fields["received_at_ms"]) > 1700000000000);
}

TEST_CASE("payload: a redelivery of the same id is 200 duplicate and not queued again") {
  ServerFixture server;
  const std::string secret = server.registerHook("repo");
  CHECK(server.deliver("repo", kBody, secret, "pull_request", "d-1")->status == 202);
  auto again = server.deliver("repo", kBody, secret, "pull_request", "d-1");
  CHECK(again->status == 200);
  CHECK(again->body.find(R"("duplicate":true)") != std::string::npos);
  CHECK(queueLength(server) == 1);
}

TEST_CASE("payload: also served at the original's /webhooks/{provider}/{repo_id}/payload") {
  ServerFixture server;
  const std::string secret = server.registerHook("repo");
  httplib::Headers headers = {{"X-Hub-Signature-256", githubSignature(secret, kBody)},
                              {"X-GitHub-Event", "release"},
                              {"X-GitHub-Delivery", "d-2"}};
  auto response =
      server.client().Post("/webhooks/github/repo/payload", headers, kBody, "application/json");
  CHECK(response->status == 202);
}

TEST_CASE("payload: form-encoded bodies are checked raw and queued as their JSON") {
  ServerFixture server;
  const std::string secret = server.registerHook("repo");
  const std::string form = "payload=%7B%22action%22%3A%22published%22%7D";
  auto response =
      server.deliver("repo", form, secret, "release", "d-3", "application/x-www-form-urlencoded");
  CHECK(response->status == 202);
  auto entries = server.redisClient()->command({"XRANGE", QueueNames::kStream, "-", "+"});
  const auto& pairs = entries.elements[0].elements[1].elements;
  CHECK(pairs.back().text == R"({"action":"published"})");

  auto no_field = server.deliver("repo", "data=1", secret, "release", "d-4",
                                 "application/x-www-form-urlencoded");
  CHECK(no_field->status == 400);
  CHECK(no_field->body.find("invalid_payload") != std::string::npos);
}

TEST_CASE("payload: checks run in order and the first that fails answers") {
  ServerFixture server([](auto& settings) { settings.max_body_bytes = 4096; });
  const std::string secret = server.registerHook("repo");
  const std::string big(5000, 'x');

  // 1. Over max_body_bytes: 413, even for a hook that does not exist.
  CHECK(server.deliver("nope", big, secret)->status == 413);
  // 2. No such hook: 404, even with a bad signature.
  auto no_hook = server.deliver("nope", kBody, secret, "push", "d", "application/json", "bad");
  CHECK(no_hook->status == 404);
  CHECK(no_hook->body.find("hook_not_found") != std::string::npos);
  CHECK(server.deliver("bad%20id", kBody, secret)->status == 404);
  // 3. Signature missing, malformed or wrong: 401, even without the event headers.
  auto missing = server.deliver("repo", kBody, secret, "", "", "application/json", "");
  CHECK(missing->status == 401);
  CHECK(missing->body.find("signature_missing") != std::string::npos);
  auto malformed = server.deliver("repo", kBody, secret, "", "", "application/json", "sha256=zz");
  CHECK(malformed->status == 401);
  CHECK(malformed->body.find("signature_malformed") != std::string::npos);
  auto wrong = server.deliver("repo", kBody, "another-secret");
  CHECK(wrong->status == 401);
  CHECK(wrong->body.find("signature_mismatch") != std::string::npos);
  // 4. No event or no delivery id: 400, even with an unsupported content type.
  auto no_event = server.deliver("repo", kBody, secret, "", "d", "text/plain");
  CHECK(no_event->status == 400);
  CHECK(no_event->body.find("missing_event_header") != std::string::npos);
  auto no_delivery = server.deliver("repo", kBody, secret, "push", "", "text/plain");
  CHECK(no_delivery->status == 400);
  CHECK(no_delivery->body.find("missing_delivery_header") != std::string::npos);
  CHECK(server.deliver("repo", kBody, secret, "push", "bad id!")->status == 400);
  // 5. Content type: 415, even for a ping.
  CHECK(server.deliver("repo", kBody, secret, "ping", "d", "text/plain")->status == 415);
  // 6. Ping: 200, nothing queued, even when the body is no JSON.
  auto ping = server.deliver("repo", "zen", secret, "ping", "d-ping");
  CHECK(ping->status == 200);
  CHECK(ping->body.find(R"("queued":false)") != std::string::npos);
  // 7. Not JSON: 400.
  auto not_json = server.deliver("repo", "{not json", secret, "push", "d-7");
  CHECK(not_json->status == 400);
  CHECK(not_json->body.find("invalid_payload") != std::string::npos);

  CHECK(queueLength(server) == 0);
  // 9. And a good one is accepted.
  CHECK(server.deliver("repo", kBody, secret, "push", "d-9")->status == 202);
  CHECK(queueLength(server) == 1);
}

TEST_CASE("payload: a declared Content-Length of 10 TB is refused at once - the server stays up") {
  ServerFixture server;
  const std::string answer =
      rawExchange(server.port(),
                  "POST /conduit/webhooks/github/repo/payload HTTP/1.1\r\nHost: x\r\n"
                  "Connection: keep-alive\r\nContent-Length: 10000000000000\r\n\r\n" +
                      std::string(1000, 'x'));
  CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(answer.find("payload_too_large") != std::string::npos);
  // The connection was closed after the answer (rawExchange read to the end of the stream).
  CHECK(server.client().Get("/conduit/ping")->status == 200);

  // Lengths beyond 64 bits are too large as well, not a crash or a plain-text 500.
  const std::string huge =
      rawExchange(server.port(),
                  "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n");
  CHECK(huge.rfind("HTTP/1.1 413", 0) == 0);
}

TEST_CASE("payload: what follows a refused body on its connection is never handled") {
  ServerFixture server;
  const std::string smuggled =
      "POST /conduit/webhooks/register HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nContent-Length: 62\r\n\r\n"
      R"({"provider":"github","repo_path":"evil/repo","repo_id":"evil"})";
  REQUIRE(smuggled.size() - smuggled.find("\r\n\r\n") - 4 == 62);
  const std::string answer =
      rawExchange(server.port(),
                  "POST /conduit/webhooks/github/repo/payload HTTP/1.1\r\nHost: x\r\n"
                  "Content-Length: 100000000\r\n\r\n" +
                      smuggled);
  CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(answer.find("HTTP/1.1 201") == std::string::npos);
  CHECK(server.redisClient()->command({"EXISTS", "secrets::github::evil"}).integer == 0);
}

TEST_CASE("payload: no length (chunked) - a malformed length - or two lengths are refused") {
  ServerFixture server;
  const std::string chunked =
      rawExchange(server.port(),
                  "POST /conduit/webhooks/github/repo/payload HTTP/1.1\r\nHost: x\r\n"
                  "Transfer-Encoding: chunked\r\n\r\nC0000000\r\n");
  CHECK(chunked.rfind("HTTP/1.1 411", 0) == 0);
  CHECK(chunked.find("length_required") != std::string::npos);

  const std::string malformed =
      rawExchange(server.port(),
                  "POST /conduit/webhooks/github/repo/payload HTTP/1.1\r\nHost: x\r\n"
                  "Content-Length: 12abc\r\n\r\n{}");
  CHECK(malformed.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(malformed.find("malformed_request") != std::string::npos);

  // Two lengths: which one a proxy in front used is unknown, so neither is trusted.
  const std::string twice =
      rawExchange(server.port(),
                  "POST /conduit/webhooks/github/repo/payload HTTP/1.1\r\nHost: x\r\n"
                  "Content-Length: 2\r\ncontent-length: 5\r\n\r\n{}");
  CHECK(twice.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(twice.find("malformed_request") != std::string::npos);

  // A request without headers is not judged by the one pipelined after it.
  const std::string pipelined =
      rawExchange(server.port(),
                  "GET /conduit/ping HTTP/1.1\r\n\r\n"
                  "POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}");
  CHECK(pipelined.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(pipelined.find("pong") != std::string::npos);
  CHECK(server.client().Get("/conduit/ping")->status == 200);
}

TEST_CASE("payload: Redis going away is 503 with nothing half-written - coming back - 202") {
  ServerFixture server;
  const std::string secret = server.registerHook("repo");
  CHECK(server.deliver("repo", kBody, secret, "push", "before")->status == 202);

  server.redis().stop();
  auto down = server.deliver("repo", kBody, secret, "push", "during");
  REQUIRE(down);
  CHECK(down->status == 503);
  CHECK(down->body.find("redis_unavailable") != std::string::npos);
  auto admin_down = server.client().Get("/conduit/webhooks/list?provider=github");
  CHECK(admin_down->status == 503);

  server.redis().start();
  CHECK(server.deliver("repo", kBody, secret, "push", "during")->status == 202);
  CHECK(queueLength(server) == 2);
  CHECK(server.deliver("repo", kBody, secret, "push", "before")->status == 200);
}

TEST_CASE("payload: Redis refusing writes (out of memory) is 503 and leaves no trace") {
  ServerFixture server;
  const std::string secret = server.registerHook("repo");
  auto redis = server.redisClient();
  redis->command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  redis->command({"CONFIG", "SET", "maxmemory", "1"});

  auto refused = server.deliver("repo", kBody, secret, "push", "oom-1");
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->body.find("redis_unavailable") != std::string::npos);
  CHECK(redis->command({"EXISTS", QueueNames::seenKey("github", "repo", "oom-1")}).integer == 0);
  CHECK(queueLength(server) == 0);

  redis->command({"CONFIG", "SET", "maxmemory", "0"});
  CHECK(server.deliver("repo", kBody, secret, "push", "oom-1")->status == 202);
}

TEST_CASE("payload: a secret sealed with another key is 500 hook_secret_unreadable") {
  std::array<uint8_t, 32> key{};
  key.fill(1);
  ServerFixture server([&](auto& settings) { settings.secret_key = key; });
  const std::string secret = server.registerHook("repo");
  // Another key id stored beside the ciphertext, as after a secret_key change.
  server.redisClient()->command({"HSET", "secrets::github::repo", "secret_key_id", "0000"});
  auto response = server.deliver("repo", kBody, secret);
  REQUIRE(response);
  CHECK(response->status == 500);
  CHECK(response->body.find("hook_secret_unreadable") != std::string::npos);
  CHECK(response->body.find(secret) == std::string::npos);
}

TEST_CASE("payload: Redis out of memory or read-only is 503 - from a script or a plain command") {
  ServerFixture server;
  const std::string secret = server.registerHook("repo");
  auto redis = server.redisClient();
  // Every write of the HTTP routes runs in a Lua script; a plain command is tried directly.
  conduit::store::RedisConnection plain(server.redis().endpoint(), std::chrono::seconds(2));
  auto admin = server.client();
  const std::string hook = R"({"provider":"github","repo_path":"o/r","repo_id":"other"})";

  redis->command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  redis->command({"CONFIG", "SET", "maxmemory", "1"});
  auto out_of_memory = server.deliver("repo", kBody, secret, "push", "refused-1");
  REQUIRE(out_of_memory);
  CHECK(out_of_memory->status == 503);
  CHECK(out_of_memory->body.find("redis_unavailable") != std::string::npos);
  auto register_refused = admin.Post("/conduit/webhooks/register", hook, "application/json");
  REQUIRE(register_refused);
  CHECK(register_refused->status == 503);
  CHECK_THROWS_AS(plain.command({"SET", "plain", "1"}), conduit::store::RedisUnavailable);
  redis->command({"CONFIG", "SET", "maxmemory", "0"});

  // A replica (of a primary that is not there) refuses writes with READONLY.
  redis->command({"REPLICAOF", "127.0.0.1", std::to_string(conduit::testing::freeLoopbackPort())});
  auto read_only = server.deliver("repo", kBody, secret, "push", "refused-2");
  REQUIRE(read_only);
  CHECK(read_only->status == 503);
  CHECK(read_only->body.find("redis_unavailable") != std::string::npos);
  CHECK(admin.Post("/conduit/webhooks/register", hook, "application/json")->status == 503);
  conduit::store::RedisConnection plain_on_replica(server.redis().endpoint(),
                                                   std::chrono::seconds(2));
  CHECK_THROWS_AS(plain_on_replica.command({"SET", "plain", "1"}),
                  conduit::store::RedisUnavailable);
  redis->command({"REPLICAOF", "NO", "ONE"});

  CHECK(server.deliver("repo", kBody, secret, "push", "refused-1")->status == 202);
  CHECK(server.deliver("repo", kBody, secret, "push", "refused-2")->status == 202);
  CHECK(queueLength(server) == 2);
}
