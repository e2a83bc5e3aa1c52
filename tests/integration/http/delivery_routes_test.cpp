#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <algorithm>
#include <mutex>

#include <spdlog/spdlog.h>

#include "http/time_text.hpp"
#include "log_capture.hpp"
#include "queue/delivery.hpp"
#include "queue/redis_keys.hpp"
#include "server_fixture.hpp"

namespace keys = conduit::queue::redis_keys;
using conduit::testing::githubSignature;
using conduit::testing::ServerFixture;

namespace {

const std::string kToken = "admin-token-for-the-delivery-routes";

// A record of the delivery log as the server and the worker write it (docs/queue.md, "The
// delivery log"), written straight into Redis so that each status can be set up at will.
struct Seed {
  std::string provider = "github";
  std::string repo_id = "repo";
  std::string repo_path = "org/repo";
  std::string event = "pull_request";
  std::string kind = "pull_request.merged";
  std::string delivery;
  std::string status = "done";
  std::string reason;
  int64_t accepted_at_ms = 0;
  std::vector<std::string> issues;
  std::string worker_json;  // worker::jira, when set
  std::string payload = R"({"action":"closed","number":7})";
};

std::string identity(const Seed& s) {
  return keys::deliveryIdentity(s.provider, s.repo_id, s.delivery);
}

void seedRecord(ServerFixture& server, const Seed& s) {
  auto redis = server.redisClient();
  const std::string key = keys::logKey(identity(s));
  const std::string accepted = std::to_string(s.accepted_at_ms);
  std::string issues;
  for (const auto& issue : s.issues)
    issues += (issues.empty() ? "" : " ") + issue;
  const std::string size = std::to_string(s.payload.size());
  const std::string entry = accepted + "-0";
  std::vector<std::string_view> hset = {"HSET",
                                        key,
                                        "provider",
                                        s.provider,
                                        "repo_id",
                                        s.repo_id,
                                        "repo_path",
                                        s.repo_path,
                                        "event",
                                        s.event,
                                        "kind",
                                        s.kind,
                                        "delivery",
                                        s.delivery,
                                        "entry",
                                        entry,
                                        "size",
                                        size,
                                        "accepted_at_ms",
                                        accepted,
                                        "updated_at_ms",
                                        accepted,
                                        "status",
                                        s.status,
                                        "reason",
                                        s.reason,
                                        "next_attempt_ms",
                                        "0",
                                        "attempts",
                                        s.status == "queued" ? "0" : "1",
                                        "replays",
                                        "0",
                                        "issues",
                                        issues,
                                        "payload",
                                        s.payload};
  if (!s.worker_json.empty()) {
    hset.push_back("worker::jira");
    hset.push_back(s.worker_json);
  }
  redis->command(hset);
  redis->command({"EXPIRE", key, "3600"});
  redis->command({"ZADD", keys::kLogIndex, accepted, identity(s)});
  for (const auto& issue : s.issues)
    redis->command({"ZADD", keys::logIssueKey(issue), accepted, identity(s)});
}

// A dead letter of worker `jira` for the seeded delivery, as the worker writes them: failed a
// minute after it was accepted, the stream entry's id made then.
void seedDeadLetter(ServerFixture& server, const Seed& s, const std::string& error = "503") {
  const std::string accepted = std::to_string(s.accepted_at_ms);
  const std::string failed = std::to_string(s.accepted_at_ms + 60000);
  const std::string entry = accepted + "-0";
  server.redisClient()->command({"XADD",        keys::kDeadLetterStream,
                                 failed + "-0", "schema",
                                 "1",           "provider",
                                 s.provider,    "repo_id",
                                 s.repo_id,     "repo_path",
                                 s.repo_path,   "event",
                                 s.event,       "delivery",
                                 s.delivery,    "received_at_ms",
                                 accepted,      "payload",
                                 s.payload,     "entry",
                                 entry,         "worker",
                                 "jira",        "error",
                                 error,         "attempts",
                                 "8",           "failed_at_ms",
                                 failed});
}

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

const rapidjson::Value& at(const rapidjson::Document& doc, const char* pointer) {
  const rapidjson::Value* value = rapidjson::Pointer(pointer).Get(doc);
  REQUIRE_MESSAGE(value != nullptr, pointer);
  return *value;
}

std::string text(const rapidjson::Document& doc, const char* pointer) {
  const auto& value = at(doc, pointer);
  REQUIRE(value.IsString());
  return value.GetString();
}

// The delivery ids of a listing, in its order.
std::vector<std::string> deliveries(const rapidjson::Document& doc, const char* list) {
  std::vector<std::string> ids;
  for (const auto& item : at(doc, list).GetArray())
    ids.emplace_back(item["delivery"].GetString());
  return ids;
}

// An admin client of the fixture: with the bearer token when one is configured.
class Admin {
 public:
  explicit Admin(ServerFixture& server) : server_(server) {
    if (server.settings().admin_token)
      headers_.emplace("Authorization", "Bearer " + *server.settings().admin_token);
  }

  httplib::Response get(const std::string& path) {
    auto r = server_.client().Get(path.c_str(), headers_);
    REQUIRE(r);
    return *r;
  }
  httplib::Response post(const std::string& path, const std::string& body = "") {
    auto r = server_.client().Post(path.c_str(), headers_, body, "application/json");
    REQUIRE(r);
    return *r;
  }
  httplib::Response del(const std::string& path) {
    auto r = server_.client().Delete(path.c_str(), headers_);
    REQUIRE(r);
    return *r;
  }

 private:
  ServerFixture& server_;
  httplib::Headers headers_;
};

// A 400 `error_msg` naming `field`.
void checkRefused(const httplib::Response& r, int status, const std::string& error,
                  const std::string& field = "") {
  INFO(r.body);
  CHECK(r.status == status);
  auto doc = parse(r.body);
  CHECK(at(doc, "/success").IsFalse());
  CHECK(text(doc, "/error_msg") == error);
  if (!field.empty()) CHECK(text(doc, "/field") == field);
}

using conduit::testing::LogCapture;

int64_t base() {
  // An hour ago, on a whole second, so that times in both forms are easy to write.
  return (conduit::queue::unixTimeMs() / 1000 - 3600) * 1000;
}

// Five deliveries a minute apart (d-1 oldest), with statuses, kinds and issues to filter on.
std::vector<Seed> seedFive(ServerFixture& server, int64_t t0) {
  std::vector<Seed> seeds(5);
  const char* statuses[] = {"done", "dead", "ignored", "retrying", "done"};
  for (int i = 0; i < 5; ++i) {
    Seed& s = seeds[static_cast<size_t>(i)];
    s.delivery = "d-" + std::to_string(i + 1);
    s.status = statuses[i];
    s.accepted_at_ms = t0 + i * 60000;
  }
  seeds[1].kind = "release.published";
  seeds[1].reason = "jira: 503 from Jira";
  seeds[2].reason = "jira: pull request closed without merge";
  seeds[3].repo_id = "other";
  seeds[0].issues = {"SOC-12"};
  seeds[4].issues = {"SOC-1", "SOC-12"};
  seeds[4].worker_json =
      R"({"outcome":"ok","message":"","attempts":[{"at_ms":)" +
      std::to_string(t0 + 4 * 60000 + 500) +
      R"(,"outcome":"ok","message":""}],"actions":[{"action":"moved","issue":"SOC-1","from":"To Do","to":"In Progress","transition":"Start work"},{"action":"already_there","issue":"SOC-12","status":"Done"}]})";
  for (const auto& s : seeds)
    seedRecord(server, s);
  return seeds;
}

}  // namespace

TEST_CASE("deliveries api: every route needs the admin token") {
  ServerFixture server([](auto& settings) { settings.admin_token = kToken; });
  auto client = server.client();
  const httplib::Headers wrong = {{"Authorization", "Bearer not-the-token"}};
  checkRefused(*client.Get("/conduit/deliveries"), 401, "unauthorized");
  checkRefused(*client.Get("/conduit/deliveries", wrong), 401, "unauthorized");
  checkRefused(*client.Get("/conduit/deliveries/refused"), 401, "unauthorized");
  checkRefused(*client.Get("/conduit/deliveries/github/repo/d-1"), 401, "unauthorized");
  checkRefused(*client.Post("/conduit/deliveries/github/repo/d-1/replay", "", "application/json"),
               401, "unauthorized");
  checkRefused(*client.Get("/conduit/dead-letters"), 401, "unauthorized");
  checkRefused(*client.Post("/conduit/dead-letters/replay", "{}", "application/json"), 401,
               "unauthorized");
  checkRefused(*client.Delete("/conduit/dead-letters/github/repo/d-1"), 401, "unauthorized");
  // With it, the same routes answer.
  Admin admin(server);
  CHECK(admin.get("/conduit/deliveries").status == 200);
  CHECK(admin.get("/conduit/dead-letters").status == 200);
}

TEST_CASE("deliveries api: a listing is newest first - paged with next_cursor") {
  ServerFixture server;
  Admin admin(server);
  const int64_t t0 = base();
  seedFive(server, t0);

  auto all = parse(admin.get("/conduit/deliveries").body);
  CHECK(at(all, "/success").IsTrue());
  CHECK(deliveries(all, "/data/deliveries") ==
        std::vector<std::string>{"d-5", "d-4", "d-3", "d-2", "d-1"});
  CHECK(at(all, "/data/next_cursor").IsNull());
  // A summary has the record's fields, its times in both forms, and its workers.
  CHECK(text(all, "/data/deliveries/0/provider") == "github");
  CHECK(text(all, "/data/deliveries/0/repo_path") == "org/repo");
  CHECK(text(all, "/data/deliveries/0/status") == "done");
  CHECK(at(all, "/data/deliveries/0/accepted_at_ms").GetInt64() == t0 + 4 * 60000);
  CHECK(text(all, "/data/deliveries/0/accepted_at").size() == 24);
  CHECK(text(all, "/data/deliveries/0/accepted_at").back() == 'Z');
  CHECK(text(all, "/data/deliveries/0/issues/1") == "SOC-12");
  CHECK_FALSE(at(all, "/data/deliveries/0").HasMember("payload"));

  // Pages of two until next_cursor is null: each delivery once, in order.
  std::vector<std::string> seen;
  std::string path = "/conduit/deliveries?limit=2";
  for (int page = 0; page < 10; ++page) {
    auto doc = parse(admin.get(path).body);
    const auto ids = deliveries(doc, "/data/deliveries");
    CHECK(ids.size() <= 2);
    seen.insert(seen.end(), ids.begin(), ids.end());
    const auto& next = at(doc, "/data/next_cursor");
    if (next.IsNull()) break;
    path = std::string("/conduit/deliveries?limit=2&cursor=") + next.GetString();
  }
  CHECK(seen == std::vector<std::string>{"d-5", "d-4", "d-3", "d-2", "d-1"});
}

TEST_CASE("deliveries api: filters by provider - repo - status - kind - issue and time") {
  ServerFixture server;
  Admin admin(server);
  const int64_t t0 = base();
  auto seeds = seedFive(server, t0);
  auto ids = [&](const std::string& query) {
    auto r = admin.get("/conduit/deliveries?" + query);
    INFO((query + " " + r.body));
    REQUIRE(r.status == 200);
    return deliveries(parse(r.body), "/data/deliveries");
  };
  using Ids = std::vector<std::string>;
  CHECK(ids("provider=github") == Ids{"d-5", "d-4", "d-3", "d-2", "d-1"});
  CHECK(ids("repo_id=other") == Ids{"d-4"});
  CHECK(ids("status=done") == Ids{"d-5", "d-1"});
  CHECK(ids("status=dead") == Ids{"d-2"});
  CHECK(ids("kind=release.published") == Ids{"d-2"});
  CHECK(ids("issue=SOC-12") == Ids{"d-5", "d-1"});
  CHECK(ids("issue=soc-1") == Ids{"d-5"});
  CHECK(ids("status=done&issue=SOC-12&repo_id=repo") == Ids{"d-5", "d-1"});
  CHECK(ids("provider=&status=") == Ids{"d-5", "d-4", "d-3", "d-2", "d-1"});  // empty: any

  // Times as Unix milliseconds or RFC 3339 (Z or an offset), both ends inclusive.
  const std::string t1 = std::to_string(t0 + 60000);
  const std::string t3 = std::to_string(t0 + 3 * 60000);
  CHECK(ids("since=" + t1 + "&until=" + t3) == Ids{"d-4", "d-3", "d-2"});
  const std::string since = conduit::http::formatRfc3339(t0 + 60000);  // ...T..:..:..000Z
  CHECK(ids("since=" + since) == Ids{"d-5", "d-4", "d-3", "d-2"});
  // The same instant an hour ahead of UTC, the `+` encoded as a client should.
  auto shifted = conduit::http::formatRfc3339(t0 + 3 * 60000 + 3600000);
  shifted = shifted.substr(0, shifted.size() - 1) + "%2B01:00";
  CHECK(ids("until=" + shifted) == Ids{"d-4", "d-3", "d-2", "d-1"});
}

TEST_CASE("deliveries api: a bad filter is 400 naming it") {
  ServerFixture server;
  Admin admin(server);
  auto get = [&](const std::string& query) { return admin.get("/conduit/deliveries?" + query); };
  checkRefused(get("provider=svn"), 400, "unknown_provider", "provider");
  checkRefused(get("repo_id=a%20b"), 400, "invalid_field", "repo_id");
  checkRefused(get("status=finished"), 400, "invalid_field", "status");
  checkRefused(get("kind=pull%20request"), 400, "invalid_field", "kind");
  checkRefused(get("issue=12"), 400, "invalid_field", "issue");
  checkRefused(get("issue=SOC-"), 400, "invalid_field", "issue");
  checkRefused(get("since=yesterday"), 400, "invalid_field", "since");
  checkRefused(get("until=2026-02-30T00:00:00Z"), 400, "invalid_field", "until");
  checkRefused(get("since=2000&until=1000"), 400, "invalid_field", "until");
  checkRefused(get("limit=0"), 400, "invalid_field", "limit");
  checkRefused(get("limit=501"), 400, "invalid_field", "limit");
  checkRefused(get("limit=ten"), 400, "invalid_field", "limit");
  checkRefused(get("limit=5x"), 400, "invalid_field", "limit");
  checkRefused(get("cursor=a%20b"), 400, "invalid_field", "cursor");
  checkRefused(get("cursor=not-a-cursor"), 400, "invalid_field", "cursor");  // the log's refusal
  CHECK(get("limit=500").status == 200);
  CHECK(get("limit=1").status == 200);
  // An offset's `+` encoded as clients should, or sent bare; a space for the `T`, encoded.
  CHECK(get("since=2026-12-05T15:02:03%2B01:00").status == 200);
  CHECK(get("since=2026-12-05T15:02:03+01:00").status == 200);
  CHECK(get("since=2026-12-05%2015:02:03.5Z&until=1796579323123").status == 200);

  checkRefused(admin.get("/conduit/dead-letters?worker=a%20b"), 400, "invalid_field", "worker");
  checkRefused(admin.get("/conduit/dead-letters?provider=svn"), 400, "unknown_provider",
               "provider");
  checkRefused(admin.get("/conduit/dead-letters?since=soon"), 400, "invalid_field", "since");
  checkRefused(admin.get("/conduit/dead-letters?limit=1000"), 400, "invalid_field", "limit");
  checkRefused(admin.get("/conduit/dead-letters?cursor=later"), 400, "invalid_field", "cursor");
}

TEST_CASE("deliveries api: one record whole - its payload only when asked for") {
  ServerFixture server;
  Admin admin(server);
  const int64_t t0 = base();
  auto seeds = seedFive(server, t0);

  auto r = admin.get("/conduit/deliveries/github/repo/d-5");
  REQUIRE(r.status == 200);
  auto doc = parse(r.body);
  CHECK(text(doc, "/data/delivery") == "d-5");
  CHECK(text(doc, "/data/kind") == "pull_request.merged");
  CHECK(text(doc, "/data/entry") == std::to_string(t0 + 4 * 60000) + "-0");
  CHECK(text(doc, "/data/workers/0/worker") == "jira");
  CHECK(text(doc, "/data/workers/0/outcome") == "ok");
  CHECK(at(doc, "/data/workers/0/attempts/0/at_ms").GetInt64() == t0 + 4 * 60000 + 500);
  // Actions are JSON objects, not strings.
  REQUIRE(at(doc, "/data/workers/0/actions/0").IsObject());
  CHECK(text(doc, "/data/workers/0/actions/0/action") == "moved");
  CHECK(text(doc, "/data/workers/0/actions/0/to") == "In Progress");
  CHECK(text(doc, "/data/workers/0/actions/1/status") == "Done");
  CHECK_FALSE(at(doc, "/data").HasMember("payload"));

  auto with = parse(admin.get("/conduit/deliveries/github/repo/d-5?payload=true").body);
  CHECK(text(with, "/data/payload") == seeds[4].payload);
  auto without = parse(admin.get("/conduit/deliveries/github/repo/d-5?payload=false").body);
  CHECK_FALSE(at(without, "/data").HasMember("payload"));
  checkRefused(admin.get("/conduit/deliveries/github/repo/d-5?payload=yes"), 400, "invalid_field",
               "payload");

  // Retrying: when the next attempt is due.
  auto retrying = parse(admin.get("/conduit/deliveries/github/other/d-4").body);
  CHECK(at(retrying, "/data").HasMember("next_attempt_at"));
  CHECK(text(retrying, "/data/status") == "retrying");

  checkRefused(admin.get("/conduit/deliveries/github/repo/no-such"), 404, "delivery_not_found");
  checkRefused(admin.get("/conduit/deliveries/github/other/d-5"), 404, "delivery_not_found");
  checkRefused(admin.get("/conduit/deliveries/gitlab/repo/d-5"), 404, "delivery_not_found");
  checkRefused(admin.get("/conduit/deliveries/github/repo/d%20x"), 404, "delivery_not_found");
}

TEST_CASE("deliveries api: replay puts a dead delivery back on the queue under its identity") {
  ServerFixture server;
  Admin admin(server);
  const int64_t t0 = base();
  auto seeds = seedFive(server, t0);
  seedDeadLetter(server, seeds[1]);
  auto redis = server.redisClient();
  const auto stream_before = redis->command({"XLEN", keys::kStream}).integer;

  auto r = admin.post("/conduit/deliveries/github/repo/d-2/replay");
  INFO(r.body);
  REQUIRE(r.status == 202);
  auto doc = parse(r.body);
  CHECK(text(doc, "/data/delivery") == "d-2");
  CHECK(at(doc, "/data/replayed").IsTrue());
  const std::string entry = text(doc, "/data/entry");
  CHECK(redis->command({"XLEN", keys::kStream}).integer == stream_before + 1);

  // The record is queued again, on its new entry; its dead letter is gone.
  auto record = parse(admin.get("/conduit/deliveries/github/repo/d-2").body);
  CHECK(text(record, "/data/status") == "queued");
  CHECK(text(record, "/data/entry") == entry);
  CHECK(at(record, "/data/replays").GetInt() == 1);
  CHECK(redis->command({"XLEN", keys::kDeadLetterStream}).integer == 0);

  // Now in progress: not replayed again, forced or not.
  checkRefused(admin.post("/conduit/deliveries/github/repo/d-2/replay"), 409,
               "delivery_in_progress");
  checkRefused(admin.post("/conduit/deliveries/github/repo/d-2/replay?force=true"), 409,
               "delivery_in_progress");
  // d-4 is still being worked on: its record says so and its entry is in the stream (a record
  // saying so of an entry that has left the stream lost its last update: replayed).
  const std::string d4_entry = redis->command({"XADD", keys::kStream, "*", "delivery", "d-4"}).text;
  redis->command({"HSET", keys::logKey("github::other::d-4"), "entry", d4_entry});
  checkRefused(admin.post("/conduit/deliveries/github/other/d-4/replay"), 409,
               "delivery_in_progress");
}

TEST_CASE("deliveries api: a delivery that ended well is replayed only with force") {
  ServerFixture server;
  Admin admin(server);
  seedFive(server, base());
  checkRefused(admin.post("/conduit/deliveries/github/repo/d-1/replay"), 409, "not_failed");
  checkRefused(admin.post("/conduit/deliveries/github/repo/d-3/replay"), 409, "not_failed");
  checkRefused(admin.post("/conduit/deliveries/github/repo/d-1/replay?force=maybe"), 400,
               "invalid_field", "force");
  auto forced = admin.post("/conduit/deliveries/github/repo/d-1/replay?force=true");
  INFO(forced.body);
  CHECK(forced.status == 202);
  CHECK(text(parse(admin.get("/conduit/deliveries/github/repo/d-1").body), "/data/status") ==
        "queued");
  checkRefused(admin.post("/conduit/deliveries/github/repo/no-such/replay"), 404,
               "delivery_not_found");
  checkRefused(admin.post("/conduit/deliveries/gitlab/repo/d-1/replay?force=true"), 404,
               "delivery_not_found");
}

TEST_CASE("dead letters api: list - replay by id or by filter - discard") {
  ServerFixture server;
  Admin admin(server);
  const int64_t t0 = base();
  std::vector<Seed> seeds(3);
  for (int i = 0; i < 3; ++i) {
    Seed& s = seeds[static_cast<size_t>(i)];
    s.delivery = "dl-" + std::to_string(i + 1);
    s.status = "dead";
    s.reason = "jira: 503 from Jira";
    s.accepted_at_ms = t0 + i * 60000;
    s.repo_id = i == 2 ? "other" : "repo";
    seedRecord(server, s);
    seedDeadLetter(server, s, "503 from Jira " + std::to_string(i + 1));
  }

  auto list = parse(admin.get("/conduit/dead-letters").body);
  CHECK(deliveries(list, "/data/dead_letters") == std::vector<std::string>{"dl-3", "dl-2", "dl-1"});
  CHECK(at(list, "/data/next_cursor").IsNull());
  CHECK(text(list, "/data/dead_letters/0/worker") == "jira");
  CHECK(text(list, "/data/dead_letters/0/error") == "503 from Jira 3");
  CHECK(text(list, "/data/dead_letters/0/repo_id") == "other");
  CHECK(text(list, "/data/dead_letters/0/repo_path") == "org/repo");
  CHECK(at(list, "/data/dead_letters/0/attempts").GetInt() == 8);
  CHECK(at(list, "/data/dead_letters/0/received_at_ms").GetInt64() == t0 + 2 * 60000);
  CHECK(at(list, "/data/dead_letters/0/failed_at_ms").GetInt64() == t0 + 3 * 60000);
  CHECK_FALSE(text(list, "/data/dead_letters/0/id").empty());
  CHECK(deliveries(parse(admin.get("/conduit/dead-letters?repo_id=other").body),
                   "/data/dead_letters") == std::vector<std::string>{"dl-3"});
  CHECK(
      deliveries(parse(admin.get("/conduit/dead-letters?worker=slack").body), "/data/dead_letters")
          .empty());

  // By id.
  auto one =
      admin.post("/conduit/dead-letters/replay",
                 R"({"deliveries":[{"provider":"github","repo_id":"repo","delivery":"dl-1"}]})");
  INFO(one.body);
  REQUIRE(one.status == 202);
  CHECK(at(parse(one.body), "/data/replayed").GetInt() == 1);
  CHECK(text(parse(admin.get("/conduit/deliveries/github/repo/dl-1").body), "/data/status") ==
        "queued");
  CHECK(deliveries(parse(admin.get("/conduit/dead-letters").body), "/data/dead_letters") ==
        std::vector<std::string>{"dl-3", "dl-2"});

  // Discarded for good.
  CHECK(admin.del("/conduit/dead-letters/github/other/dl-3").status == 204);
  checkRefused(admin.del("/conduit/dead-letters/github/other/dl-3"), 404, "dead_letter_not_found");
  checkRefused(admin.del("/conduit/dead-letters/github/repo/no-such"), 404,
               "dead_letter_not_found");
  checkRefused(admin.del("/conduit/dead-letters/gitlab/repo/dl-2"), 404, "dead_letter_not_found");
  CHECK(text(parse(admin.get("/conduit/deliveries/github/other/dl-3").body), "/data/status") ==
        "dead");

  // By filter: {} is every one left.
  auto rest = admin.post("/conduit/dead-letters/replay", "{}");
  REQUIRE(rest.status == 202);
  CHECK(at(parse(rest.body), "/data/replayed").GetInt() == 1);
  CHECK(deliveries(parse(admin.get("/conduit/dead-letters").body), "/data/dead_letters").empty());
  CHECK(
      at(parse(admin.post("/conduit/dead-letters/replay", "{}").body), "/data/replayed").GetInt() ==
      0);
}

TEST_CASE("dead letters api: a discard is logged at warn with who asked - never the token") {
  ServerFixture server([](auto& settings) { settings.admin_token = kToken; });
  Admin admin(server);
  Seed s;
  s.delivery = "dl-logged";
  s.status = "dead";
  s.accepted_at_ms = base();
  seedRecord(server, s);
  seedDeadLetter(server, s);
  LogCapture log;
  CHECK(admin.del("/conduit/dead-letters/github/repo/dl-logged").status == 204);
  const std::string text = log.text();
  INFO(text);
  CHECK(text.find("[warning]") != std::string::npos);
  CHECK(text.find("github::repo::dl-logged discarded") != std::string::npos);
  CHECK(text.find("127.0.0.1") != std::string::npos);
  CHECK(text.find(kToken) == std::string::npos);
}

TEST_CASE("dead letters api: a bulk replay by time and repo") {
  ServerFixture server;
  Admin admin(server);
  const int64_t t0 = base();
  for (int i = 0; i < 3; ++i) {
    Seed s;
    s.delivery = "dl-" + std::to_string(i + 1);
    s.status = "dead";
    s.accepted_at_ms = t0 + i * 60000;
    seedRecord(server, s);
    seedDeadLetter(server, s);
  }
  // Since and until select by when the worker failed (a minute after each was accepted).
  const std::string listed = "/conduit/dead-letters?since=" + std::to_string(t0 + 120000) +
                             "&until=" + conduit::http::formatRfc3339(t0 + 120000);
  CHECK(deliveries(parse(admin.get(listed).body), "/data/dead_letters") ==
        std::vector<std::string>{"dl-2"});
  const std::string body = R"({"since":")" + conduit::http::formatRfc3339(t0 + 120000) +
                           R"(","until":)" + std::to_string(t0 + 120000) +
                           R"(,"repo_id":"repo","provider":"github","worker":"jira"})";
  auto r = admin.post("/conduit/dead-letters/replay", body);
  INFO(r.body);
  REQUIRE(r.status == 202);
  CHECK(at(parse(r.body), "/data/replayed").GetInt() == 1);
  CHECK(deliveries(parse(admin.get("/conduit/dead-letters").body), "/data/dead_letters") ==
        std::vector<std::string>{"dl-3", "dl-1"});
}

TEST_CASE("dead letters api: a bad replay body is 400 naming the field") {
  ServerFixture server;
  Admin admin(server);
  auto post = [&](const std::string& body) {
    return admin.post("/conduit/dead-letters/replay", body);
  };
  checkRefused(post(""), 400, "invalid_json");
  checkRefused(post("[]"), 400, "invalid_json");
  checkRefused(post("{"), 400, "invalid_json");
  checkRefused(post(R"({"deliveries":"d-1"})"), 400, "invalid_field", "deliveries");
  checkRefused(post(R"({"deliveries":[]})"), 400, "invalid_field", "deliveries");
  checkRefused(post(R"({"deliveries":["d-1"]})"), 400, "invalid_field", "deliveries[0]");
  checkRefused(post(R"({"deliveries":[{"provider":"github","repo_id":"repo"}]})"), 400,
               "missing_field", "deliveries[0].delivery");
  checkRefused(post(R"({"deliveries":[{"provider":"svn","repo_id":"r","delivery":"d"}]})"), 400,
               "unknown_provider", "deliveries[0].provider");
  checkRefused(post(R"({"deliveries":[{"provider":"github","repo_id":"a b","delivery":"d"}]})"),
               400, "invalid_field", "deliveries[0].repo_id");
  checkRefused(post(R"({"deliveries":[{"provider":"github","repo_id":"r","delivery":"d x"}]})"),
               400, "invalid_field", "deliveries[0].delivery");
  checkRefused(post(R"({"deliveries":[{"provider":"github","repo_id":"r","delivery":"d"}],
                        "repo_id":"r"})"),
               400, "invalid_field", "deliveries");
  checkRefused(post(R"({"since":"last week"})"), 400, "invalid_field", "since");
  checkRefused(post(R"({"until":true})"), 400, "invalid_field", "until");
  checkRefused(post(R"({"since":2000,"until":1000})"), 400, "invalid_field", "until");
  checkRefused(post(R"({"provider":"svn"})"), 400, "unknown_provider", "provider");
  checkRefused(post(R"({"repo_id":7})"), 400, "invalid_field", "repo_id");
  checkRefused(post(R"({"worker":"a b"})"), 400, "invalid_field", "worker");
  // A misspelt filter must not widen the replay to every dead letter.
  checkRefused(post(R"({"repo":"payments"})"), 400, "invalid_field", "repo");
  checkRefused(post("{\"x\":\"" + std::string(70 * 1024, 'a') + "\"}"), 413, "payload_too_large");
}

TEST_CASE("deliveries api: the refused-request ring shows a bad signature without it") {
  ServerFixture server;
  Admin admin(server);
  const std::string secret = server.registerHook("repo");
  const std::string body = R"({"action":"opened"})";
  const std::string wrong = githubSignature("not-the-secret", body);
  auto refused =
      server.deliver("repo", body, secret, "pull_request", "refused-1", "application/json", wrong);
  REQUIRE(refused);
  REQUIRE(refused->status == 401);
  // An unknown path is scanners' noise: not kept. A delivery that is accepted: not kept.
  CHECK(server.client().Get("/wp-login.php")->status == 404);
  CHECK(server.deliver("repo", body, secret, "pull_request", "accepted-1")->status == 202);

  auto r = admin.get("/conduit/deliveries/refused");
  REQUIRE(r.status == 200);
  CHECK(r.body.find(wrong.substr(7)) == std::string::npos);  // no signature
  CHECK(r.body.find("opened") == std::string::npos);         // no payload
  auto doc = parse(r.body);
  REQUIRE(at(doc, "/data/refused").Size() == 1);
  CHECK(text(doc, "/data/refused/0/method") == "POST");
  CHECK(text(doc, "/data/refused/0/path") == "/conduit/webhooks/github/repo/payload");
  CHECK(text(doc, "/data/refused/0/route") == "/conduit/webhooks/:provider/:repo_id/payload");
  CHECK(at(doc, "/data/refused/0/status").GetInt() == 401);
  CHECK(text(doc, "/data/refused/0/error") == "signature_mismatch");
  CHECK(text(doc, "/data/refused/0/delivery") == "refused-1");
  CHECK(text(doc, "/data/refused/0/source") == "127.0.0.1");
  CHECK(at(doc, "/data/refused/0/at_ms").GetInt64() > 0);
  CHECK(text(doc, "/data/refused/0/at").back() == 'Z');
}

TEST_CASE("deliveries api: the refused-request ring keeps a wrong admin token - newest first") {
  ServerFixture server([](auto& settings) { settings.admin_token = kToken; });
  Admin admin(server);
  auto client = server.client();
  const httplib::Headers guess = {{"Authorization", "Bearer guess-1"}};
  CHECK(client.Get("/conduit/webhooks/list?provider=github", guess)->status == 401);
  auto unknown_hook = server.deliver("nohook", "{}", "s", "push", "d-404");
  REQUIRE(unknown_hook);
  CHECK(unknown_hook->status == 404);
  // An admin's own mistake, answered to them: not kept.
  CHECK(admin.get("/conduit/deliveries?limit=0").status == 400);

  auto r = admin.get("/conduit/deliveries/refused");
  REQUIRE(r.status == 200);
  CHECK(r.body.find("guess-1") == std::string::npos);  // no token
  auto doc = parse(r.body);
  REQUIRE(at(doc, "/data/refused").Size() == 2);
  CHECK(text(doc, "/data/refused/0/error") == "hook_not_found");
  CHECK(at(doc, "/data/refused/0/status").GetInt() == 404);
  CHECK(text(doc, "/data/refused/0/delivery") == "d-404");
  CHECK(text(doc, "/data/refused/1/error") == "unauthorized");
  CHECK(text(doc, "/data/refused/1/route") == "/conduit/webhooks/list");
  CHECK(text(doc, "/data/refused/1/path") == "/conduit/webhooks/list");
  CHECK(text(doc, "/data/refused/1/delivery").empty());
}
