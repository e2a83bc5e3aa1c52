// ABI 1.3's event fields, end to end: the real host (PluginInstance) hands a normalized Event to
// a real plugin built with the C++ SDK (the event_echo test plugin, which reports every field it
// reads through sdk::Event's accessors); an event of the older layout reads as empty through the
// same accessors; the SDK's FakeHost hands every field of its EventData over; and a plugin built
// for 1.2 still loads and runs.
#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <conduit/testing.hpp>

#include <doctest/doctest.h>

#include "plugin/plugin_instance.hpp"
#include "plugin/plugin_library.hpp"

using conduit::plugin::DeliveryFacts;
using conduit::plugin::PluginHost;
using conduit::plugin::PluginInstance;
using conduit::plugin::PluginLibrary;
using conduit::plugin::SharedPlugin;

namespace {

const std::string kPlugins = CONDUIT_TEST_PLUGIN_DIR;

using Fields = std::map<std::string, std::string>;

// A reported action's members, read as the host checked them.
Fields fieldsOf(const std::string& json) {
  std::string error;
  auto fields = conduit::sdk::testing::detail::FlatJsonReader(json).read(error);
  INFO(json);
  REQUIRE_MESSAGE(fields.has_value(), error);
  return *fields;
}

std::vector<Fields> fieldsOf(const std::vector<std::string>& actions) {
  std::vector<Fields> all;
  for (const auto& json : actions)
    all.push_back(fieldsOf(json));
  return all;
}

std::vector<Fields> fieldsOf(const std::vector<conduit::sdk::testing::Report>& reports) {
  std::vector<Fields> all;
  for (const auto& report : reports)
    all.push_back(report.fields);
  return all;
}

// One worker running `plugin` through the real host side of the ABI.
struct Worker {
  explicit Worker(const std::string& plugin)
      : shared(std::make_shared<SharedPlugin>(PluginLibrary::load(kPlugins, plugin))),
        instance(shared, entry(plugin), PluginHost::Context{"w", plugin, {}, {}, nullptr}) {}

  static conduit::config::WorkerEntry entry(const std::string& plugin) {
    conduit::config::WorkerEntry worker;
    worker.name = "w";
    worker.plugin = plugin;
    worker.settings_json = "{}";
    return worker;
  }

  std::shared_ptr<SharedPlugin> shared;
  PluginInstance instance;
};

// A GitLab push as the providers normalize it, every field filled, the third commit's author
// unknown (a host that does not send it).
conduit::providers::Event gitlabPush() {
  conduit::providers::Event event;
  event.kind = "push";
  event.host = "GitLab";
  event.repository = "group/subgroup/project";
  event.number = "12";
  event.reference = "merge request !12";
  event.title = "SOC-1: the title";
  event.body = "the description";
  event.branch = "feature/SOC-2";
  event.target_branch = "main";
  event.commits = {{"a1", "SOC-3 first", "https://gitlab.example/c/a1", "Ada"},
                   {"b2", "second\n\nSOC-4 in its body", "https://gitlab.example/c/b2", "Grace"},
                   {"c3", "third", "", ""}};
  event.tag = "v1.2.0";
  event.release_name = "Release 1.2";
  event.release_body = "SOC-5";
  event.released_at = "2026-12-05T17:00:00Z";
  event.url = "https://gitlab.example/group/subgroup/project/-/merge_requests/12";
  event.author = "ada";
  return event;
}

}  // namespace

TEST_CASE("event fields: every field of a normalized event reaches the plugin's sdk::Event") {
  Worker worker("event_echo");
  const auto event = gitlabPush();
  DeliveryFacts facts;
  facts.entry_id = "1-0";
  facts.provider = "gitlab";
  facts.repo_id = "the-hook";
  facts.repo_path = "group/project";
  facts.delivery_id = "uuid-1";
  facts.payload = R"({"object_kind":"push"})";
  facts.attempt = 2;

  const auto answer = worker.instance.process(event, facts);
  REQUIRE(answer.kind == conduit::plugin::ProcessOutcome::Kind::kOk);
  const auto reports = fieldsOf(answer.actions);
  REQUIRE(reports.size() == 4);
  const Fields expected{
      {"action", "event"},
      {"attempt", "2"},
      {"provider", "gitlab"},
      {"repo_id", "the-hook"},
      {"repo_path", "group/project"},
      {"kind", "push"},
      {"delivery_id", "uuid-1"},
      {"title", "SOC-1: the title"},
      {"body", "the description"},
      {"branch", "feature/SOC-2"},
      {"release_name", "Release 1.2"},
      {"release_body", "SOC-5"},
      {"url", "https://gitlab.example/group/subgroup/project/-/merge_requests/12"},
      {"author", "ada"},
      {"raw_json", R"({"object_kind":"push"})"},
      {"host_name", "GitLab"},
      {"repository", "group/subgroup/project"},
      {"number", "12"},
      {"reference", "merge request !12"},
      {"target_branch", "main"},
      {"tag", "v1.2.0"},
      {"released_at", "2026-12-05T17:00:00Z"},
      {"commit_messages", "3"},
      {"commits", "3"}};
  CHECK(reports[0] == expected);
  for (size_t i = 0; i < 3; ++i) {
    const auto& commit = event.commits[i];
    CAPTURE(i);
    CHECK(reports[i + 1] == Fields{{"action", "commit"},
                                   {"index", std::to_string(i)},
                                   {"id", commit.id},
                                   {"message", commit.message},
                                   {"url", commit.url},
                                   {"author", commit.author}});
  }
}

TEST_CASE("event fields: an event of the 1.2 layout reads as empty through the 1.3 accessors") {
  auto library = PluginLibrary::load(kPlugins, "event_echo");
  PluginHost host{PluginHost::Context{"w", "event_echo", {}, {}, nullptr}};
  std::array<char, 512> buffer{};
  conduit_message error{buffer.data(), buffer.size(), 0};
  auto* instance = library.descriptor().create(PluginHost::api(), host.handle(), &error);
  REQUIRE(instance != nullptr);

  // What an older host hands over: struct_size ends at raw_json. The bytes past it are whatever
  // the older host's memory held: here views that must never be read.
  const std::string garbage = "not part of a 1.2 event";
  const conduit_str stale{garbage.data(), garbage.size()};
  const std::string kind = "push", message = "SOC-1 pushed";
  const conduit_str messages[] = {{message.data(), message.size()}};
  conduit_event event;
  std::memset(&event, 0, sizeof event);
  event.struct_size =
      static_cast<uint32_t>(offsetof(conduit_event, raw_json) + sizeof(conduit_str));
  event.attempt = 1;
  event.kind = {kind.data(), kind.size()};
  event.commit_messages = messages;
  event.commit_message_count = 1;
  for (auto* field : {&event.host_name, &event.repository, &event.number, &event.reference,
                      &event.target_branch, &event.tag, &event.released_at})
    *field = stale;
  event.commit_ids = event.commit_urls = event.commit_authors = &stale;

  conduit_result result{sizeof(conduit_result), 0, {buffer.data(), buffer.size(), 0}};
  std::vector<Fields> reports;
  {
    PluginHost::DeliveryScope scope(host, "1-0");
    REQUIRE(library.descriptor().process(instance, &event, scope.handle(), &result) ==
            CONDUIT_OUTCOME_OK);
    reports = fieldsOf(scope.takeActions());
  }
  library.descriptor().destroy(instance);

  REQUIRE(reports.size() == 2);
  CHECK(reports[0].at("kind") == "push");
  for (const char* field :
       {"host_name", "repository", "number", "reference", "target_branch", "tag", "released_at"}) {
    CAPTURE(field);
    CHECK(reports[0].at(field).empty());
  }
  // The commits still come, with their messages only.
  CHECK(reports[0].at("commits") == "1");
  CHECK(reports[1] == Fields{{"action", "commit"},
                             {"index", "0"},
                             {"id", ""},
                             {"message", "SOC-1 pushed"},
                             {"url", ""},
                             {"author", ""}});
}

TEST_CASE("event fields: FakeHost hands every field of EventData to the plugin") {
  auto library = PluginLibrary::load(kPlugins, "event_echo");
  conduit::sdk::testing::FakeHost host;
  conduit::sdk::testing::PluginUnderTest plugin(&library.descriptor(), host);
  REQUIRE(plugin.configure("w", "{}", {}).empty());

  conduit::sdk::testing::EventData data;
  data.attempt = 3;
  data.provider = "gitea";
  data.repo_id = "hook";
  data.repo_path = "org/repo";
  data.kind = "release.published";
  data.delivery_id = "d-7";
  data.title = "the title";
  data.body = "the body";
  data.branch = "feature";
  data.commit_messages = {"SOC-1 one", "SOC-2 two"};
  data.release_name = "v2";
  data.release_body = "SOC-3";
  data.url = "https://gitea.example/org/repo/releases/tag/v2";
  data.author = "publisher";
  data.raw_json = R"({"action":"published"})";
  data.host_name = "Gitea";
  data.repository = "org/repo";
  data.number = "7";
  data.reference = "pull request #7";
  data.target_branch = "main";
  data.tag = "v2";
  data.released_at = "2026-12-05T17:00:00+01:00";
  // The second commit's id, page and author are not given: they come over empty.
  data.commit_ids = {"1111"};
  data.commit_urls = {"https://gitea.example/c/1111"};
  data.commit_authors = {"Ada"};

  const auto answer = plugin.process(data);
  REQUIRE(answer.outcome == CONDUIT_OUTCOME_OK);
  const auto reports = fieldsOf(answer.actions);
  REQUIRE(reports.size() == 3);
  const Fields expected{{"action", "event"},
                        {"attempt", "3"},
                        {"provider", "gitea"},
                        {"repo_id", "hook"},
                        {"repo_path", "org/repo"},
                        {"kind", "release.published"},
                        {"delivery_id", "d-7"},
                        {"title", "the title"},
                        {"body", "the body"},
                        {"branch", "feature"},
                        {"release_name", "v2"},
                        {"release_body", "SOC-3"},
                        {"url", "https://gitea.example/org/repo/releases/tag/v2"},
                        {"author", "publisher"},
                        {"raw_json", R"({"action":"published"})"},
                        {"host_name", "Gitea"},
                        {"repository", "org/repo"},
                        {"number", "7"},
                        {"reference", "pull request #7"},
                        {"target_branch", "main"},
                        {"tag", "v2"},
                        {"released_at", "2026-12-05T17:00:00+01:00"},
                        {"commit_messages", "2"},
                        {"commits", "2"}};
  CHECK(reports[0] == expected);
  CHECK(reports[1] == Fields{{"action", "commit"},
                             {"index", "0"},
                             {"id", "1111"},
                             {"message", "SOC-1 one"},
                             {"url", "https://gitea.example/c/1111"},
                             {"author", "Ada"}});
  CHECK(reports[2] == Fields{{"action", "commit"},
                             {"index", "1"},
                             {"id", ""},
                             {"message", "SOC-2 two"},
                             {"url", ""},
                             {"author", ""}});
}

TEST_CASE("event fields: a plugin built for 1.2 - before the host fields - loads and runs") {
  Worker worker("abi_1_2");
  CHECK(worker.shared->descriptor().abi_minor == 2);
  CHECK(CONDUIT_ABI_MINOR >= 3);
  DeliveryFacts facts;
  facts.entry_id = "1-0";
  facts.provider = "gitlab";
  facts.delivery_id = "uuid-2";
  const auto answer = worker.instance.process(gitlabPush(), facts);
  CHECK(answer.kind == conduit::plugin::ProcessOutcome::Kind::kOk);
  REQUIRE(answer.actions.size() == 1);
  CHECK(fieldsOf(answer.actions[0]) ==
        Fields{{"action", "seen"}, {"kind", "push"}, {"title", "SOC-1: the title"}});
}
