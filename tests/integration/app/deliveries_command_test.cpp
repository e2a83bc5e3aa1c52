// `conduit deliveries` and `conduit dead-letters`: the delivery log and the dead letters from the
// command line, straight on Redis, with no server running. Records are seeded in the layout
// docs/queue.md documents ("The delivery log"), as the server and the worker write it.
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "process.hpp"
#include "queue/delivery.hpp"
#include "redis_server.hpp"
#include "store/redis_pool.hpp"

using conduit::testing::RedisServer;
using conduit::testing::runToEnd;

namespace {

const std::string kConduit = CONDUIT_BINARY;
constexpr int64_t kMinuteMs = 60 * 1000;

struct Seed {
  std::string provider = "github";
  std::string repo_id = "payments";
  std::string repo_path = "acme/payments";
  std::string delivery;
  std::string status = "done";
  int64_t accepted_ms = 0;
  std::string reason;
  std::string issues;   // space-separated, uppercase
  std::string workers;  // the JSON of worker::jira, or empty
  std::string payload = R"({"action":"closed"})";
};

Seed seed(std::string provider, std::string repo_id, std::string repo_path, std::string delivery,
          std::string status, int64_t accepted_ms, std::string reason = "", std::string issues = "",
          std::string workers = "") {
  Seed s;
  s.provider = std::move(provider);
  s.repo_id = std::move(repo_id);
  s.repo_path = std::move(repo_path);
  s.delivery = std::move(delivery);
  s.status = std::move(status);
  s.accepted_ms = accepted_ms;
  s.reason = std::move(reason);
  s.issues = std::move(issues);
  s.workers = std::move(workers);
  return s;
}

class Fixture {
 public:
  Fixture() : pool_(redis_.endpoint(), std::chrono::seconds(2)) {
    config_ = redis_.directory() + "/app.env";
    std::ofstream(config_) << "redis_url=" << redis_.url() << "\n";
  }

  conduit::store::RedisValue redis(const std::vector<std::string>& args) {
    return pool_.run(conduit::store::Retry::kOnce, [&](conduit::store::RedisConnection& c) {
      return c.command(conduit::store::RedisArgs(args.begin(), args.end()));
    });
  }

  // One delivery log record, its index member and its issue index members.
  void record(const Seed& s) {
    const std::string identity = s.provider + "::" + s.repo_id + "::" + s.delivery;
    const std::string accepted = std::to_string(s.accepted_ms);
    std::vector<std::string> hset = {"HSET",
                                     "conduit::log::" + identity,
                                     "provider",
                                     s.provider,
                                     "repo_id",
                                     s.repo_id,
                                     "repo_path",
                                     s.repo_path,
                                     "event",
                                     "pull_request",
                                     "kind",
                                     "pull_request.merged",
                                     "delivery",
                                     s.delivery,
                                     "entry",
                                     accepted + "-0",
                                     "size",
                                     std::to_string(s.payload.size()),
                                     "accepted_at_ms",
                                     accepted,
                                     "updated_at_ms",
                                     std::to_string(s.accepted_ms + 1000),
                                     "status",
                                     s.status,
                                     "reason",
                                     s.reason,
                                     "next_attempt_ms",
                                     "0",
                                     "attempts",
                                     "1",
                                     "replays",
                                     "0",
                                     "issues",
                                     s.issues,
                                     "payload",
                                     s.payload};
    if (!s.workers.empty()) {
      hset.push_back("worker::jira");
      hset.push_back(s.workers);
    }
    redis(hset);
    redis({"ZADD", "conduit::log::index", accepted, identity});
    std::string issues = s.issues;
    for (size_t at = 0; at < issues.size();) {
      size_t end = issues.find(' ', at);
      if (end == std::string::npos) end = issues.size();
      redis({"ZADD", "conduit::log::issue::" + issues.substr(at, end - at), accepted, identity});
      at = end + 1;
    }
  }

  // A dead letter as the worker writes it: the entry's fields and the failure's.
  void deadLetter(const Seed& s, const std::string& error) {
    redis({"XADD",
           "conduit::dead-letters",
           "*",
           "schema",
           "1",
           "provider",
           s.provider,
           "repo_id",
           s.repo_id,
           "repo_path",
           s.repo_path,
           "event",
           "pull_request",
           "delivery",
           s.delivery,
           "received_at_ms",
           std::to_string(s.accepted_ms),
           "payload",
           s.payload,
           "entry",
           std::to_string(s.accepted_ms) + "-0",
           "worker",
           "jira",
           "error",
           error,
           "attempts",
           "8",
           "failed_at_ms",
           std::to_string(s.accepted_ms + kMinuteMs)});
  }

  int run(std::vector<std::string> args, std::string* out = nullptr, std::string* err = nullptr) {
    args.insert(args.begin(), kConduit);
    args.insert(args.begin() + 3, {"--config", config_});
    out_.clear();
    err_.clear();
    const int status = runToEnd(args, &out_, &err_);
    if (out != nullptr) *out = out_;
    if (err != nullptr) *err = err_;
    return status;
  }

  long long streamLength(const std::string& key) { return redis({"XLEN", key}).integer; }

  RedisServer& server() { return redis_; }
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  RedisServer redis_;
  conduit::store::RedisPool pool_;
  std::string config_;
  std::string out_;
  std::string err_;
};

struct TerminalRun {
  int status = -1;
  std::string output;  // standard output and error, as the terminal showed them
};

// Runs `argv` with a pseudo-terminal as its standard input, output and error (as a person at a
// terminal would), typing `input`; NO_COLOR set when `no_color`.
TerminalRun runOnTerminal(const std::vector<std::string>& argv, const std::string& input,
                          bool no_color = false) {
  std::vector<char*> args;
  for (const auto& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int terminal = -1;
  const pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (no_color) {
      setenv("NO_COLOR", "1", 1);
    } else {
      unsetenv("NO_COLOR");
    }
    execv(args[0], args.data());
    _exit(127);
  }
  if (!input.empty()) CHECK(write(terminal, input.data(), input.size()) > 0);
  TerminalRun run;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd ready{terminal, POLLIN, 0};
    if (poll(&ready, 1, 200) <= 0) continue;
    const ssize_t n = read(terminal, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO: the child has gone, and the terminal with it
    run.output.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == 0) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  close(terminal);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

std::string text(const rapidjson::Value& v, const char* name) {
  REQUIRE(v.HasMember(name));
  return v[name].GetString();
}

// Three deliveries: one moved SOC-1 (done, 3 min ago), one dead (an hour ago), and one of
// another repo that was ignored (two days ago). (GitHub is the one provider there is so far.)
void seedThree(Fixture& f, int64_t now_ms) {
  f.record(seed(
      "github", "payments", "acme/payments", "d-moved", "done", now_ms - 3 * kMinuteMs, "", "SOC-1",
      R"({"outcome":"ok","message":"","attempts":[{"at_ms":)" +
          std::to_string(now_ms - 3 * kMinuteMs) +
          R"(,"outcome":"ok","message":""}],"actions":[{"action":"moved","issue":"SOC-1",)"
          R"("from":"To Do","to":"In Progress","transition":"Start work"}]})"));
  Seed dead = seed("github", "payments", "acme/payments", "d-dead", "dead", now_ms - 60 * kMinuteMs,
                   "jira: 503 from Jira");
  f.record(dead);
  f.deadLetter(dead, "503 from Jira");
  f.record(seed("github", "infra", "ops/infra", "d-ignored", "ignored",
                now_ms - 48 * 60 * kMinuteMs, "jira: pull request closed without merge"));
}

}  // namespace

TEST_CASE("deliveries command: list is a table newest first - --json the API's data - filters") {
  Fixture f;
  const int64_t now_ms = conduit::queue::unixTimeMs();
  seedThree(f, now_ms);
  std::string out;
  REQUIRE(f.run({"deliveries", "list"}, &out) == 0);
  CHECK(out.rfind("ACCEPTED", 0) == 0);
  const size_t moved = out.find("github/payments/d-moved");
  const size_t dead = out.find("github/payments/d-dead");
  const size_t ignored = out.find("github/infra/d-ignored");
  REQUIRE(moved != std::string::npos);
  REQUIRE(dead != std::string::npos);
  REQUIRE(ignored != std::string::npos);
  CHECK(moved < dead);
  CHECK(dead < ignored);
  CHECK(out.find("3 min ago") != std::string::npos);
  CHECK(out.find("SOC-1") != std::string::npos);
  CHECK(out.find('\033') == std::string::npos);
  // Aligned: the ID column (the last, no spaces in it) starts at the same place on every line.
  std::set<size_t> id_columns;
  for (size_t line = 0, end; (end = out.find('\n', line)) != std::string::npos; line = end + 1)
    id_columns.insert(out.substr(line, end - line).rfind(' ') + 1);
  CHECK(id_columns.size() == 1);

  REQUIRE(f.run({"deliveries", "list", "--json"}, &out) == 0);
  auto doc = parse(out);
  REQUIRE(doc["deliveries"].IsArray());
  REQUIRE(doc["deliveries"].Size() == 3);
  const auto& first = doc["deliveries"][0];
  CHECK(text(first, "delivery") == "d-moved");
  CHECK(text(first, "status") == "done");
  CHECK(first["accepted_at_ms"].GetInt64() == now_ms - 3 * kMinuteMs);
  CHECK(text(first, "accepted_at").back() == 'Z');
  CHECK(std::string(first["issues"][0].GetString()) == "SOC-1");
  CHECK(text(first["workers"][0]["actions"][0], "action") == "moved");
  CHECK(doc["next_cursor"].IsNull());

  REQUIRE(f.run({"deliveries", "list", "--status", "dead", "--json"}, &out) == 0);
  doc = parse(out);
  REQUIRE(doc["deliveries"].Size() == 1);
  CHECK(text(doc["deliveries"][0], "delivery") == "d-dead");
  REQUIRE(f.run({"deliveries", "list", "--repo", "infra", "--json"}, &out) == 0);
  CHECK(parse(out)["deliveries"].Size() == 1);
  REQUIRE(f.run({"deliveries", "list", "--provider", "github", "--json"}, &out) == 0);
  CHECK(parse(out)["deliveries"].Size() == 3);
  REQUIRE(f.run({"deliveries", "list", "--issue", "soc-1", "--json"}, &out) == 0);
  doc = parse(out);
  REQUIRE(doc["deliveries"].Size() == 1);
  CHECK(text(doc["deliveries"][0], "delivery") == "d-moved");
  // Relative times: the last 2 hours leave out the one of two days ago.
  REQUIRE(f.run({"deliveries", "list", "--since", "2h", "--json"}, &out) == 0);
  CHECK(parse(out)["deliveries"].Size() == 2);
  REQUIRE(f.run({"deliveries", "list", "--until", "30m", "--json"}, &out) == 0);
  CHECK(parse(out)["deliveries"].Size() == 2);
  REQUIRE(
      f.run({"deliveries", "list", "--since", std::to_string(now_ms - 10 * kMinuteMs), "--json"},
            &out) == 0);
  CHECK(parse(out)["deliveries"].Size() == 1);
  REQUIRE(f.run({"deliveries", "list", "--limit", "1"}, &out) == 0);
  CHECK(out.find("d-moved") != std::string::npos);
  CHECK(out.find("d-dead") == std::string::npos);
  REQUIRE(f.run({"deliveries", "list", "--status", "retrying"}, &out) == 0);
  CHECK(out == "no deliveries\n");
}

TEST_CASE("deliveries command: show by full or bare id - --json - --payload - unknown exits 1") {
  Fixture f;
  const int64_t now_ms = conduit::queue::unixTimeMs();
  seedThree(f, now_ms);
  std::string out, err;
  REQUIRE(f.run({"deliveries", "show", "github/payments/d-moved"}, &out) == 0);
  CHECK(out.find("github/payments/d-moved") != std::string::npos);
  CHECK(out.find("pull_request.merged") != std::string::npos);
  CHECK(out.find("worker jira: ok") != std::string::npos);
  CHECK(out.find("moved SOC-1: To Do -> In Progress (Start work)") != std::string::npos);
  CHECK(out.find("payload") == std::string::npos);

  std::string bare;
  REQUIRE(f.run({"deliveries", "show", "d-moved"}, &bare) == 0);
  CHECK(bare == out);

  REQUIRE(f.run({"deliveries", "show", "d-ignored", "--json", "--payload"}, &out) == 0);
  auto doc = parse(out);
  CHECK(text(doc, "status") == "ignored");
  CHECK(text(doc, "reason") == "jira: pull request closed without merge");
  CHECK(text(doc, "payload") == R"({"action":"closed"})");
  REQUIRE(f.run({"deliveries", "show", "d-ignored", "--json"}, &out) == 0);
  CHECK_FALSE(parse(out).HasMember("payload"));

  CHECK(f.run({"deliveries", "show", "github/payments/nothing"}, &out, &err) == 1);
  CHECK(err.find("no delivery github/payments/nothing") != std::string::npos);
  CHECK(f.run({"deliveries", "show", "nothing"}, &out, &err) == 1);
  CHECK(err.find("no delivery nothing") != std::string::npos);

  // The same delivery id seen by two repos: both are named, and nothing is chosen.
  f.record(seed("github", "infra", "ops/infra", "d-moved", "done", now_ms - kMinuteMs));
  CHECK(f.run({"deliveries", "show", "d-moved"}, &out, &err) == 1);
  CHECK(err.find("d-moved names 2 deliveries") != std::string::npos);
  CHECK(err.find("  github/payments/d-moved") != std::string::npos);
  CHECK(err.find("  github/infra/d-moved") != std::string::npos);
  CHECK(out.empty());
}

TEST_CASE("deliveries command: replay puts a dead delivery back - done needs --force - 1 else") {
  Fixture f;
  const int64_t now_ms = conduit::queue::unixTimeMs();
  seedThree(f, now_ms);
  std::string out, err;
  REQUIRE(f.run({"deliveries", "replay", "github/payments/d-dead"}, &out, &err) == 0);
  CHECK(out.find("replayed github/payments/d-dead as entry ") != std::string::npos);
  CHECK(f.streamLength("conduit::deliveries") == 1);
  CHECK(f.streamLength("conduit::dead-letters") == 0);

  // Now queued: in progress, not replayed again.
  CHECK(f.run({"deliveries", "replay", "d-dead"}, &out, &err) == 1);
  CHECK(err.find("still queued") != std::string::npos);
  CHECK(f.run({"deliveries", "replay", "d-moved"}, &out, &err) == 1);
  CHECK(err.find("--force") != std::string::npos);
  CHECK(f.streamLength("conduit::deliveries") == 1);
  REQUIRE(f.run({"deliveries", "replay", "d-moved", "--force"}, &out, &err) == 0);
  CHECK(f.streamLength("conduit::deliveries") == 2);

  // One unknown among several: the others are replayed, the status says one was not.
  CHECK(f.run({"deliveries", "replay", "nothing", "github/infra/d-ignored", "--force"}, &out,
              &err) == 1);
  CHECK(err.find("no delivery nothing") != std::string::npos);
  CHECK(out.find("replayed github/infra/d-ignored") != std::string::npos);
  CHECK(f.streamLength("conduit::deliveries") == 3);
}

TEST_CASE("dead-letters command: list - --json - replay by id, --all, --since") {
  Fixture f;
  const int64_t now_ms = conduit::queue::unixTimeMs();
  // Dead letters are listed in the order they were written, newest first: the old one first.
  Seed old = seed("github", "payments", "acme/payments", "d-old", "dead",
                  now_ms - 5 * 24 * 60 * kMinuteMs, "jira: 401 from Jira");
  f.record(old);
  f.deadLetter(old, "401 from Jira");
  seedThree(f, now_ms);
  std::string out, err;
  REQUIRE(f.run({"dead-letters", "list"}, &out) == 0);
  CHECK(out.rfind("FAILED", 0) == 0);
  CHECK(out.find("503 from Jira") != std::string::npos);
  CHECK(out.find("github/payments/d-dead") < out.find("github/payments/d-old"));
  REQUIRE(f.run({"dead-letters", "list", "--json", "--worker", "jira"}, &out) == 0);
  auto doc = parse(out);
  REQUIRE(doc["dead_letters"].Size() == 2);
  CHECK(text(doc["dead_letters"][0], "delivery") == "d-dead");
  CHECK(text(doc["dead_letters"][0], "error") == "503 from Jira");
  CHECK(doc["dead_letters"][0]["attempts"].GetInt() == 8);
  CHECK(doc["next_cursor"].IsNull());
  REQUIRE(f.run({"dead-letters", "list", "--json", "--worker", "slack"}, &out) == 0);
  CHECK(parse(out)["dead_letters"].Size() == 0);

  // The last day: only d-dead.
  REQUIRE(f.run({"dead-letters", "replay", "--since", "1d"}, &out, &err) == 0);
  CHECK(out == "put 1 delivery back on the queue\n");
  CHECK(f.streamLength("conduit::deliveries") == 1);
  CHECK(f.streamLength("conduit::dead-letters") == 1);
  CHECK(f.run({"dead-letters", "replay", "d-dead"}, &out, &err) == 1);
  CHECK(err.find("no dead letter of github/payments/d-dead") != std::string::npos);
  REQUIRE(f.run({"dead-letters", "replay", "--all"}, &out, &err) == 0);
  CHECK(out == "put 1 delivery back on the queue\n");
  CHECK(f.streamLength("conduit::dead-letters") == 0);
  REQUIRE(f.run({"dead-letters", "list"}, &out) == 0);
  CHECK(out == "no dead letters\n");

  // By id, with the record gone (past delivery_log_hours): found in the dead letters.
  Seed gone = seed("github", "payments", "acme/payments", "d-gone", "dead", now_ms - kMinuteMs);
  f.deadLetter(gone, "500 from Jira");
  REQUIRE(f.run({"dead-letters", "replay", "d-gone"}, &out, &err) == 0);
  CHECK(out == "replayed github/payments/d-gone\n");
  CHECK(f.streamLength("conduit::deliveries") == 3);
}

TEST_CASE("dead-letters command: purge refuses without --yes off a terminal - --yes discards") {
  Fixture f;
  const int64_t now_ms = conduit::queue::unixTimeMs();
  seedThree(f, now_ms);
  Seed other = seed("github", "infra", "ops/infra", "d-other", "dead", now_ms - kMinuteMs);
  f.record(other);
  f.deadLetter(other, "boom");
  std::string out, err;
  // The tests' standard input is /dev/null: no terminal to ask on.
  CHECK(f.run({"dead-letters", "purge", "--all"}, &out, &err) == 2);
  CHECK(err.find("add --yes") != std::string::npos);
  CHECK(f.run({"dead-letters", "purge", "d-dead"}, &out, &err) == 2);
  CHECK(f.streamLength("conduit::dead-letters") == 2);

  REQUIRE(f.run({"dead-letters", "purge", "d-dead", "--yes"}, &out, &err) == 0);
  CHECK(out == "discarded the dead letters of 1 delivery\n");
  CHECK(f.streamLength("conduit::dead-letters") == 1);
  CHECK(f.run({"dead-letters", "purge", "github/payments/d-dead", "--yes"}, &out, &err) == 1);
  CHECK(err.find("no dead letter of github/payments/d-dead") != std::string::npos);
  REQUIRE(f.run({"dead-letters", "purge", "--all", "--yes"}, &out, &err) == 0);
  CHECK(f.streamLength("conduit::dead-letters") == 0);
  // Discarded, not replayed.
  CHECK(f.streamLength("conduit::deliveries") == 0);
}

TEST_CASE("deliveries command: a bad command line exits 2 naming the fault - Redis away 1") {
  Fixture f;
  std::string out, err;
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"deliveries", "list", "--status", "lost"}, "--status: `lost` is not one of"},
      {{"deliveries", "list", "--since", "yesterday"}, "--since: `yesterday` is not a time"},
      {{"deliveries", "list", "--since", "1h", "--until", "2h"}, "--since is later than --until"},
      {{"deliveries", "list", "--limit", "0"}, "--limit: `0` is not a number from 1 to 10000"},
      {{"deliveries", "list", "--provider", "svn"}, "unknown provider `svn`"},
      {{"deliveries", "list", "--worker", "jira"}, "unknown option `--worker`"},
      {{"deliveries", "list", "extra"}, "unexpected argument `extra`"},
      {{"deliveries", "list", "--json=yes"}, "--json takes no value"},
      {{"deliveries", "show", "a", "b"}, "show takes one delivery id"},
      {{"deliveries", "show", "github/only-two"}, "is not a delivery"},
      {{"deliveries", "show", "bad id!"}, "is not a delivery"},
      {{"deliveries", "replay"}, "replay needs the id of at least one delivery"},
      {{"deliveries", "frob"}, "unknown subcommand `frob`"},
      {{"dead-letters", "list", "--status", "dead"}, "unknown option `--status`"},
      {{"dead-letters", "replay"}, "replay takes ids, --all, or --since"},
      {{"dead-letters", "replay", "--all", "--since", "1h"}, "replay takes ids, --all, or --since"},
      {{"dead-letters", "replay", "--all", "--until", "1h"}, "--until goes with --since"},
      {{"dead-letters", "replay", "d-1", "--repo", "r"}, "go with --all or --since"},
      {{"dead-letters", "purge", "--yes"}, "purge takes ids, or --all"},
      {{"dead-letters", "show", "d-1"}, "unknown subcommand `show`"},
  };
  for (const auto& [args, message] : bad) {
    CAPTURE(args.back());
    CHECK(f.run(args, &out, &err) == 2);
    CHECK(err.find(message) != std::string::npos);
  }
  CHECK(runToEnd({kConduit, "deliveries"}, &out, &err) == 2);

  f.server().stop();
  CHECK(f.run({"deliveries", "list"}, &out, &err) == 1);
  CHECK(err.find("conduit deliveries: Redis at ") != std::string::npos);
  CHECK(f.run({"dead-letters", "purge", "--all", "--yes"}, &out, &err) == 1);
  CHECK(err.find("did not answer") != std::string::npos);
  f.server().start();
}

TEST_CASE("dead-letters command: on a terminal purge asks first - colour unless NO_COLOR") {
  Fixture f;
  const int64_t now_ms = conduit::queue::unixTimeMs();
  seedThree(f, now_ms);
  const std::string config = f.server().directory() + "/app.env";

  auto declined =
      runOnTerminal({kConduit, "dead-letters", "purge", "d-dead", "--config", config}, "n\n");
  CHECK(declined.status == 1);
  CHECK(declined.output.find("Discard the dead letters of 1 delivery for good?") !=
        std::string::npos);
  CHECK(declined.output.find("nothing discarded") != std::string::npos);
  CHECK(f.streamLength("conduit::dead-letters") == 1);

  auto confirmed =
      runOnTerminal({kConduit, "dead-letters", "purge", "d-dead", "--config", config}, "y\n");
  CHECK(confirmed.status == 0);
  CHECK(confirmed.output.find("discarded the dead letters of 1 delivery") != std::string::npos);
  CHECK(f.streamLength("conduit::dead-letters") == 0);

  // A terminal gets colour (done in green); NO_COLOR or a pipe (the other tests) get none.
  auto coloured = runOnTerminal({kConduit, "deliveries", "list", "--config", config}, "");
  CHECK(coloured.status == 0);
  CHECK(coloured.output.find("\033[32mdone\033[0m") != std::string::npos);
  auto plain = runOnTerminal({kConduit, "deliveries", "list", "--config", config}, "",
                             /*no_color=*/true);
  CHECK(plain.status == 0);
  CHECK(plain.output.find("done") != std::string::npos);
  CHECK(plain.output.find('\033') == std::string::npos);
  // --json is for scripts: never colour, even on a terminal.
  auto json = runOnTerminal({kConduit, "deliveries", "list", "--json", "--config", config}, "");
  CHECK(json.output.find('\033') == std::string::npos);
}
