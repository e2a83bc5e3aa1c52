// A Jira simulator and the plugin configured against it through its C entry point and the SDK's
// FakeHost, for the tests of fix versions and links; and what Jira holds, read back over REST as
// any client would.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <conduit/testing.hpp>

#include "jira_settings.hpp"
#include "jira_simulator.hpp"

extern "C" const conduit_plugin_descriptor* conduit_plugin_entry_v1();

namespace conduit::jira::testing {

using conduit::jira_simulator::JiraSimulator;
using conduit::jira_simulator::SimulatorOptions;
using conduit::sdk::testing::EventData;
using conduit::sdk::testing::FakeHost;
using conduit::sdk::testing::PluginUnderTest;

struct JiraSite {
  explicit JiraSite(std::string worker, SimulatorOptions options = {},
                    std::map<std::string, std::string> config = {})
      : worker_json(std::move(worker)), extra_config(std::move(config)) {
    jira = std::make_unique<JiraSimulator>(std::move(options));
    jira->start();
    host = newHost();
    plugin = newPlugin(*host);
  }

  std::unique_ptr<FakeHost> newHost() const {
    auto h = std::make_unique<FakeHost>();
    h->setConfig("atlassian_domain_url", jira->url());
    h->setConfig("atlassian_email", "dev@example.test");
    h->setConfig("atlassian_api_key", "simulator-token");
    for (const auto& [key, value] : extra_config)
      h->setConfig(key, value);
    for (const std::string project : {"SOC", "DEVHOP"}) {
      h->addTransition(project, "To Do", "next", "in_progress", "In Progress");
      h->addTransition(project, "In Progress", "next", "done", "Done");
      h->addEnd(project, "Done", "next");
    }
    return h;
  }
  std::unique_ptr<PluginUnderTest> newPlugin(FakeHost& h) const {
    auto p = std::make_unique<PluginUnderTest>(conduit_plugin_entry_v1(), h);
    REQUIRE(p->configure("atlassian", worker_json, {"soc", "devhop"}) == "");
    return p;
  }

  // A new delivery: a fresh host (its own checkpoint store) and plugin instance.
  void nextDelivery() {
    plugin.reset();
    host = newHost();
    plugin = newPlugin(*host);
  }

  bool logged(const std::string& text) const { return loggedIn(*host, text); }
  static bool loggedIn(const FakeHost& h, const std::string& text) {
    for (const auto& [level, line] : h.logs()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  static size_t countReports(const PluginUnderTest::Answer& answer, const std::string& action) {
    size_t n = 0;
    for (const auto& report : answer.actions)
      n += report.get("action") == action ? 1 : 0;
    return n;
  }

  // ---- what Jira holds, over its REST API ----
  std::string get(const std::string& path) const {
    httplib::Client client(jira->url());
    client.set_basic_auth("dev@example.test", "simulator-token");
    auto result = client.Get(path.c_str());
    REQUIRE(result);
    REQUIRE(result->status == 200);
    return result->body;
  }
  // The project's versions: name -> releaseDate.
  std::map<std::string, std::string> versions(const std::string& project) const {
    rapidjson::Document document;
    document.Parse(get("/rest/api/2/project/" + project + "/versions").c_str());
    REQUIRE(document.IsArray());
    std::map<std::string, std::string> found;
    for (const auto& item : document.GetArray()) {
      std::string date;
      if (item.HasMember("releaseDate") && item["releaseDate"].IsString())
        date = item["releaseDate"].GetString();
      found[item["name"].GetString()] = date;
    }
    return found;
  }
  size_t versionCount(const std::string& project) const {
    rapidjson::Document document;
    document.Parse(get("/rest/api/2/project/" + project + "/versions").c_str());
    REQUIRE(document.IsArray());
    return document.Size();
  }
  // Makes a version, as someone in Jira's UI would.
  void makeVersion(const std::string& project, const std::string& name) const {
    httplib::Client client(jira->url());
    client.set_basic_auth("dev@example.test", "simulator-token");
    auto result = client.Post("/rest/api/2/version",
                              R"({"name":")" + name + R"(","project":")" + project + R"("})",
                              "application/json");
    REQUIRE(result);
    REQUIRE(result->status == 201);
  }
  // The issue's fix versions' names, in Jira's order.
  std::vector<std::string> fixVersions(const std::string& key) const {
    rapidjson::Document document;
    document.Parse(get("/rest/api/2/issue/" + key + "?fields=fixVersions").c_str());
    std::vector<std::string> names;
    for (const auto& item : document["fields"]["fixVersions"].GetArray())
      names.push_back(item["name"].GetString());
    return names;
  }
  // The issue's remote links: (globalId, title), in Jira's order.
  std::vector<std::pair<std::string, std::string>> links(const std::string& key) const {
    rapidjson::Document document;
    document.Parse(get("/rest/api/2/issue/" + key + "/remotelink").c_str());
    REQUIRE(document.IsArray());
    std::vector<std::pair<std::string, std::string>> found;
    for (const auto& item : document.GetArray()) {
      found.emplace_back(item["globalId"].GetString(), item["object"]["title"].GetString());
    }
    return found;
  }

  std::string worker_json;
  std::map<std::string, std::string> extra_config;
  std::unique_ptr<JiraSimulator> jira;
  std::unique_ptr<FakeHost> host;
  std::unique_ptr<PluginUnderTest> plugin;
};

}  // namespace conduit::jira::testing
