// `conduit hooks`: the hook registry from the command line, straight on Redis, as an operator
// uses it with no server running.
#include <fstream>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "crypto/secret_box.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "store/hook_registry.hpp"
#include "store/redis_pool.hpp"

using conduit::testing::RedisServer;
using conduit::testing::runToEnd;

namespace {

const std::string kConduit = CONDUIT_BINARY;
const std::string kKeyHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

std::string writeConfig(const RedisServer& redis, const std::string& extra = "") {
  const std::string path = redis.directory() + "/app.env";
  std::ofstream(path) << "redis_url=" << redis.url() << "\n" << extra;
  return path;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++count;
  return count;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

// The value on the line `  secret:      <value>` of a register or rotate answer.
std::string printedSecret(const std::string& out) {
  const std::string label = "  secret:";
  const size_t at = out.find(label);
  if (at == std::string::npos) return "";
  const size_t start = out.find_first_not_of(' ', at + label.size());
  return out.substr(start, out.find('\n', start) - start);
}

}  // namespace

TEST_CASE("hooks command: register prints the secret once - list, rotate, delete never repeat it") {
  RedisServer redis;
  const auto config = writeConfig(redis);
  std::string out, err;
  REQUIRE(runToEnd({kConduit, "hooks", "register", "--config", config, "--provider", "github",
                    "--repo-id", "payments", "--repo-path", "acme/payments"},
                   &out, &err) == 0);
  const std::string secret = printedSecret(out);
  REQUIRE(secret.size() == 64);
  CHECK(occurrences(out, secret) == 1);
  CHECK(out.find("/conduit/webhooks/github/payments/payload") != std::string::npos);
  // Not a terminal: no colour codes around the secret.
  CHECK(out.find('\033') == std::string::npos);

  // What the server checks signatures with is what was printed.
  conduit::store::RedisPool pool(redis.endpoint(), std::chrono::seconds(2));
  conduit::store::HookRegistry registry(pool, std::nullopt);
  auto stored = registry.lookup("github", "payments");
  REQUIRE(stored);
  CHECK(stored->secret == secret);
  CHECK(stored->hook.repo_path == "acme/payments");

  REQUIRE(runToEnd({kConduit, "hooks", "list", "--config", config}, &out, &err) == 0);
  CHECK(out.find("PROVIDER") == 0);
  CHECK(out.find("github    payments  acme/payments") != std::string::npos);
  CHECK(out.find(secret) == std::string::npos);
  REQUIRE(runToEnd({kConduit, "hooks", "list", "--config", config, "--json"}, &out, &err) == 0);
  auto listed = parse(out);
  REQUIRE(listed.IsArray());
  REQUIRE(listed.Size() == 1);
  CHECK(std::string(listed[0]["repo_path"].GetString()) == "acme/payments");
  CHECK_FALSE(listed[0].HasMember("secret"));

  // rotate keeps the repo path when none is given, and shows only the new secret.
  REQUIRE(runToEnd({kConduit, "hooks", "rotate", "--config", config, "--provider", "github",
                    "--repo-id", "payments", "--json"},
                   &out, &err) == 0);
  auto rotated = parse(out);
  const std::string new_secret = rotated["secret"].GetString();
  CHECK(new_secret.size() == 64);
  CHECK(new_secret != secret);
  CHECK(std::string(rotated["uri"].GetString()) == "/conduit/webhooks/github/payments/payload");
  CHECK(out.find(secret) == std::string::npos);
  stored = registry.lookup("github", "payments");
  REQUIRE(stored);
  CHECK(stored->secret == new_secret);
  CHECK(stored->hook.repo_path == "acme/payments");

  REQUIRE(runToEnd({kConduit, "hooks", "delete", "--config", config, "--provider", "github",
                    "--repo-id", "payments"},
                   &out, &err) == 0);
  CHECK(out == "deleted github/payments\n");
  CHECK_FALSE(registry.find("github", "payments"));
  REQUIRE(runToEnd({kConduit, "hooks", "list", "--config", config, "--provider", "github"}, &out,
                   &err) == 0);
  CHECK(out == "no hooks of github\n");
}

TEST_CASE("hooks command: with secret_key the secret is sealed in Redis - printed in clear once") {
  RedisServer redis;
  const auto config = writeConfig(redis, "secret_key=" + kKeyHex + "\n");
  std::string out, err;
  REQUIRE(runToEnd({kConduit, "hooks", "register", "--config", config, "--provider", "github",
                    "--repo-id", "infra", "--repo-path", "ops/infra", "--json"},
                   &out, &err) == 0);
  auto answer = parse(out);
  const std::string secret = answer["secret"].GetString();
  CHECK(std::string(answer["uri"].GetString()) == "/conduit/webhooks/github/infra/payload");

  conduit::store::RedisPool pool(redis.endpoint(), std::chrono::seconds(2));
  auto plain = pool.run(conduit::store::Retry::kIdempotent, [](auto& c) {
    return c.command({"HEXISTS", "secrets::github::infra", "secret"});
  });
  CHECK(plain.integer == 0);
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < 32; ++i)
    key[i] = static_cast<uint8_t>(std::stoi(kKeyHex.substr(2 * i, 2), nullptr, 16));
  conduit::store::HookRegistry registry(pool, conduit::crypto::SecretBox(key));
  auto stored = registry.lookup("github", "infra");
  REQUIRE(stored);
  CHECK(stored->secret == secret);
}

TEST_CASE("hooks command: import takes the secret from a file - never prints it") {
  RedisServer redis;
  const auto config = writeConfig(redis);
  const std::string secret_file = redis.directory() + "/secret";
  std::ofstream(secret_file) << "an-old-secret-from-the-original\n";
  std::string out, err;
  REQUIRE(
      runToEnd({kConduit, "hooks", "import", "--config", config, "--provider", "github",
                "--repo-id", "legacy", "--repo-path", "acme/legacy", "--secret-file", secret_file},
               &out, &err) == 0);
  CHECK(out.find("an-old-secret") == std::string::npos);
  CHECK(out.find("/conduit/webhooks/github/legacy/payload") != std::string::npos);
  conduit::store::RedisPool pool(redis.endpoint(), std::chrono::seconds(2));
  conduit::store::HookRegistry registry(pool, std::nullopt);
  auto stored = registry.lookup("github", "legacy");
  REQUIRE(stored);
  CHECK(stored->secret == "an-old-secret-from-the-original");

  // Importing over a registered hook, or registering it again: 1, saying what to do.
  CHECK(
      runToEnd({kConduit, "hooks", "import", "--config", config, "--provider", "github",
                "--repo-id", "legacy", "--repo-path", "acme/legacy", "--secret-file", secret_file},
               &out, &err) == 1);
  CHECK(err.find("delete the hook first") != std::string::npos);
  CHECK(runToEnd({kConduit, "hooks", "register", "--config", config, "--provider", "github",
                  "--repo-id", "legacy", "--repo-path", "acme/legacy"},
                 &out, &err) == 1);
  CHECK(err.find("`conduit hooks rotate` makes a new secret") != std::string::npos);
  CHECK(out.empty());
  CHECK(registry.lookup("github", "legacy")->secret == "an-old-secret-from-the-original");
}

TEST_CASE("hooks command: an unknown hook exits 1 - bad options 2 - Redis away 1 saying so") {
  RedisServer redis;
  const auto config = writeConfig(redis);
  std::string out, err;
  CHECK(runToEnd({kConduit, "hooks", "rotate", "--config", config, "--provider", "github",
                  "--repo-id", "nothing"},
                 &out, &err) == 1);
  CHECK(err.find("no hook github/nothing") != std::string::npos);
  CHECK(runToEnd({kConduit, "hooks", "delete", "--config", config, "--provider", "github",
                  "--repo-id", "nothing"},
                 &out, &err) == 1);

  CHECK(runToEnd({kConduit, "hooks"}, &out, &err) == 2);
  CHECK(runToEnd({kConduit, "hooks", "frob"}, &out, &err) == 2);
  CHECK(err.find("unknown subcommand `frob`") != std::string::npos);
  CHECK(runToEnd({kConduit, "hooks", "register", "--config", config, "--provider", "svn",
                  "--repo-id", "r", "--repo-path", "o/r"},
                 &out, &err) == 2);
  CHECK(err.find("unknown provider `svn`; known: ") != std::string::npos);
  CHECK(runToEnd({kConduit, "hooks", "register", "--config", config, "--provider", "github",
                  "--repo-id", "no/slash", "--repo-path", "o/r"},
                 &out, &err) == 2);
  CHECK(err.find("--repo-id must be 1 to 100") != std::string::npos);
  CHECK(runToEnd({kConduit, "hooks", "register", "--config", config, "--provider", "github",
                  "--repo-id", "r"},
                 &out, &err) == 2);
  CHECK(err.find("--repo-path is required") != std::string::npos);
  CHECK(runToEnd({kConduit, "hooks", "import", "--config", config, "--provider", "github",
                  "--repo-id", "r", "--repo-path", "o/r"},
                 &out, &err) == 2);
  CHECK(err.find("--secret-file") != std::string::npos);
  CHECK(runToEnd({kConduit, "hooks", "list", "--json=yes"}, &out, &err) == 2);
  CHECK(runToEnd({kConduit, "hooks", "list", "--repo-id", "r"}, &out, &err) == 2);
  CHECK(runToEnd({kConduit, "hooks", "list", "extra"}, &out, &err) == 2);
  CHECK(runToEnd({kConduit, "hooks", "list", "--config", "/nonexistent/app.env"}, &out, &err) == 2);
  CHECK(err.find("/nonexistent/app.env") != std::string::npos);

  redis.stop();
  CHECK(runToEnd({kConduit, "hooks", "list", "--config", config}, &out, &err) == 1);
  CHECK(err.find("conduit hooks: Redis at ") != std::string::npos);
  CHECK(err.find("did not answer") != std::string::npos);
  redis.start();
}

TEST_CASE("hooks command: with no app.env at all CONDUIT_REDIS_URL is enough") {
  RedisServer redis;
  std::string out, err;
  // The tests run where there is no ./config/app.env; the installed one is not looked for
  // further when it does not exist either.
  REQUIRE(runToEnd({kConduit, "hooks", "register", "--provider", "github", "--repo-id", "r",
                    "--repo-path", "o/r"},
                   &out, &err, {{"CONDUIT_REDIS_URL", redis.url()}}) == 0);
  REQUIRE(runToEnd({kConduit, "hooks", "list"}, &out, &err, {{"CONDUIT_REDIS_URL", redis.url()}}) ==
          0);
  CHECK(out.find("github    r        o/r") != std::string::npos);
}
