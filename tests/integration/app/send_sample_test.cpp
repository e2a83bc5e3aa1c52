// examples/send-sample.sh as the README has a user run it, against a real `conduit serve`.
#include <signal.h>

#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "process.hpp"
#include "providers/registry.hpp"
#include "queue/delivery_queue.hpp"
#include "redis_server.hpp"
#include "store/redis_connection.hpp"

using conduit::testing::eventually;
using conduit::testing::freeLoopbackPort;
using conduit::testing::Process;
using conduit::testing::readFile;
using conduit::testing::RedisServer;

TEST_CASE("send-sample: a log it is appended to keeps what was in it") {
  RedisServer redis;
  const std::string dir = redis.directory();
  std::ofstream(dir + "/app.env") << "redis_url=" << redis.url() << "\nbind=127.0.0.1\n";
  const std::string port = std::to_string(freeLoopbackPort());
  Process serve({CONDUIT_BINARY, "serve", "--config", dir + "/app.env", "-p", port});
  REQUIRE(
      eventually([&] { return serve.standardError().find("listening on") != std::string::npos; }));

  const std::string log = dir + "/session.log";
  std::ofstream(log) << "what the user logged before\n";
  // `>> log 2>&1`: curl -o /dev/stderr used to open that file anew and truncate it.
  Process sample({"/bin/sh", "-c",
                  std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh http://127.0.0.1:" +
                      port + " >> " + log + " 2>&1"});
  CHECK(sample.wait() == 0);
  const std::string text = readFile(log);
  CHECK(text.rfind("what the user logged before\n", 0) == 0);
  CHECK(text.find(R"({"success":true)") != std::string::npos);
  CHECK(text.find(": HTTP 202 (202: queued") != std::string::npos);
  serve.signal(SIGTERM);
  CHECK(serve.wait() == 0);
}

namespace {

// `conduit serve` on its own Redis, as `make run` starts it for the README's reader.
struct Serve {
  Serve() {
    REQUIRE(eventually(
        [&] { return serve.standardError().find("listening on") != std::string::npos; }));
  }
  ~Serve() {
    serve.signal(SIGTERM);
    serve.wait();
  }

  static std::string writeConfig(const RedisServer& redis) {
    const std::string path = redis.directory() + "/app.env";
    std::ofstream(path) << "redis_url=" << redis.url() << "\nbind=127.0.0.1\n";
    return path;
  }

  RedisServer redis;
  std::string config = writeConfig(redis);
  std::string port = std::to_string(freeLoopbackPort());
  Process serve{{CONDUIT_BINARY, "serve", "--config", config, "-p", port}};
};

}  // namespace

TEST_CASE("send-sample: each PROVIDER sends its host's merged request - queued - and read as one") {
  Serve server;
  for (const auto* provider : conduit::providers::allProviders()) {
    const std::string name(provider->name());
    CAPTURE(name);
    Process sample({std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh",
                    "http://127.0.0.1:" + server.port},
                   {{"PROVIDER", name}, {"ISSUE", "DEVHOP-7"}});
    CHECK(sample.wait() == 0);
    CHECK(sample.standardOutput().find(name + " delivery ") != std::string::npos);
    CHECK(sample.standardOutput().find(": HTTP 202 (202: queued") != std::string::npos);

    // The delivery was taken as the host's own (the hook `<provider>/sample`), and its payload
    // is what the host's normalizer reads as a merged pull or merge request naming the issue.
    conduit::store::RedisConnection redis(server.redis.endpoint(), std::chrono::seconds(2));
    auto entries = redis.command({"XRANGE", conduit::queue::QueueNames::kStream, "-", "+"});
    REQUIRE_FALSE(entries.elements.empty());
    auto fields = conduit::testing::streamEntryFields(entries.elements.back());
    CHECK(fields["provider"] == name);
    CHECK(fields["repo_id"] == "sample");
    std::string error;
    auto event =
        conduit::providers::normalize(*provider, fields["event"], fields["payload"], error);
    REQUIRE_MESSAGE(event.has_value(), error);
    CHECK(event->kind == "pull_request.merged");
    CHECK(event->host == provider->title());
    CHECK(event->title == "DEVHOP-7: sign-in with SSO");
    CHECK(event->branch == "feature/DEVHOP-7-sso");
    CHECK_FALSE(event->body.empty());
    CHECK_FALSE(event->reference.empty());
    CHECK(event->url.rfind("https://", 0) == 0);
    CHECK_FALSE(event->author.empty());
  }
}

TEST_CASE("send-sample: a PROVIDER Conduit does not know is refused before anything is sent") {
  Process sample({std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh",
                  "http://127.0.0.1:" + std::to_string(freeLoopbackPort())},
                 {{"PROVIDER", "svn"}});
  CHECK(sample.wait() == 2);
  CHECK(sample.standardError().find("PROVIDER must be github, gitlab, gitea, forgejo, bitbucket "
                                    "or bitbucket-server, not `svn'") != std::string::npos);
}

namespace {

// The last delivery queued, as its host's normalizer reads it.
conduit::providers::Event lastEvent(const Serve& server,
                                    const conduit::providers::Provider& provider) {
  conduit::store::RedisConnection redis(server.redis.endpoint(), std::chrono::seconds(2));
  auto entries = redis.command({"XRANGE", conduit::queue::QueueNames::kStream, "-", "+"});
  REQUIRE_FALSE(entries.elements.empty());
  auto fields = conduit::testing::streamEntryFields(entries.elements.back());
  CHECK(fields["provider"] == provider.name());
  CHECK(fields["repo_id"] == "sample");
  std::string error;
  auto event = conduit::providers::normalize(provider, fields["event"], fields["payload"], error);
  REQUIRE_MESSAGE(event.has_value(), error);
  return *event;
}

bool isBitbucket(const std::string& name) {
  return name.rfind("bitbucket", 0) == 0;
}

}  // namespace

TEST_CASE("send-sample: EVENT=release sends each host's published release naming the issue") {
  Serve server;
  for (const auto* provider : conduit::providers::allProviders()) {
    const std::string name(provider->name());
    if (isBitbucket(name)) continue;  // no releases: refused, below
    CAPTURE(name);
    Process sample({std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh",
                    "http://127.0.0.1:" + server.port},
                   {{"PROVIDER", name}, {"ISSUE", "DEVHOP-7"}, {"EVENT", "release"}});
    CHECK(sample.wait() == 0);
    CHECK(sample.standardOutput().find(": HTTP 202 (202: queued; the worker now gives DEVHOP-7 "
                                       "the fix version v1.0.0") != std::string::npos);
    const auto event = lastEvent(server, *provider);
    CHECK(event.kind == "release.published");
    CHECK(event.tag == "v1.0.0");
    CHECK(event.release_name == "v1.0.0");
    CHECK(event.release_body.find("DEVHOP-7") != std::string::npos);
    CHECK_FALSE(event.released_at.empty());
    CHECK(event.url.rfind("https://", 0) == 0);
    CHECK(event.url.find("v1.0.0") != std::string::npos);
  }
  // TAG names another release.
  Process other({std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh",
                 "http://127.0.0.1:" + server.port},
                {{"EVENT", "release"}, {"TAG", "v2.1.0"}});
  CHECK(other.wait() == 0);
  CHECK(lastEvent(server, *conduit::providers::findProvider("github")).tag == "v2.1.0");
}

TEST_CASE("send-sample: EVENT=push sends each host's push of a smart commit, a new commit each") {
  Serve server;
  for (const auto* provider : conduit::providers::allProviders()) {
    const std::string name(provider->name());
    if (name == "bitbucket-server") continue;  // its push has no commit messages: refused
    CAPTURE(name);
    std::string first_id;
    for (int run = 0; run < 2; ++run) {
      Process sample({std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh",
                      "http://127.0.0.1:" + server.port},
                     {{"PROVIDER", name}, {"ISSUE", "DEVHOP-7"}, {"EVENT", "push"}});
      CHECK(sample.wait() == 0);
      CHECK(sample.standardOutput().find(": HTTP 202 (202: queued; the worker now applies") !=
            std::string::npos);
      const auto event = lastEvent(server, *provider);
      CHECK(event.kind == "push");
      CHECK(event.branch == "main");
      REQUIRE(event.commits.size() == 1);
      CHECK(event.commits[0].message == "DEVHOP-7 #comment Fixed the login page #time 1h");
      CHECK(event.commits[0].id.size() == 40);
      CHECK(event.commits[0].url.rfind("https://", 0) == 0);
      CHECK_FALSE(event.commits[0].author.empty());
      CHECK_FALSE(event.author.empty());
      // Smart commits apply a commit once: each run pushes a commit of its own.
      if (run == 0) first_id = event.commits[0].id;
      if (run == 1) CHECK(event.commits[0].id != first_id);
    }
  }
  Process message({std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh",
                   "http://127.0.0.1:" + server.port},
                  {{"EVENT", "push"}, {"MESSAGE", "SOC-2 #done"}});
  CHECK(message.wait() == 0);
  const auto event = lastEvent(server, *conduit::providers::findProvider("github"));
  REQUIRE(event.commits.size() == 1);
  CHECK(event.commits[0].message == "SOC-2 #done");
}

TEST_CASE("send-sample: an EVENT a host does not have is refused before anything is sent") {
  // Nothing listens on the port: a request sent would fail otherwise than with exit status 2.
  const std::string url = "http://127.0.0.1:" + std::to_string(freeLoopbackPort());
  const std::string script = std::string(CONDUIT_SOURCE_DIR) + "/examples/send-sample.sh";
  for (const char* provider : {"bitbucket", "bitbucket-server"}) {
    CAPTURE(provider);
    Process release({script, url}, {{"PROVIDER", provider}, {"EVENT", "release"}});
    CHECK(release.wait() == 2);
    CHECK(release.standardError().find("EVENT=release: Bitbucket has no releases; PROVIDER must "
                                       "be github, gitlab, gitea or forgejo") != std::string::npos);
  }
  Process push({script, url}, {{"PROVIDER", "bitbucket-server"}, {"EVENT", "push"}});
  CHECK(push.wait() == 2);
  CHECK(push.standardError().find("EVENT=push: Bitbucket Data Center's push names no commit "
                                  "messages") != std::string::npos);
  Process unknown({script, url}, {{"EVENT", "deploy"}});
  CHECK(unknown.wait() == 2);
  CHECK(unknown.standardError().find("EVENT must be unset (a merged pull request), pull_request, "
                                     "release or push, not `deploy'") != std::string::npos);
}
