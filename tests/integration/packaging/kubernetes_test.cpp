// packaging/kubernetes/ checked against what Conduit really does: the manifests parse, their
// app.env has only keys Conduit (or the Jira plugin) reads, their state machines and
// workers.yaml validate, every secret file they name is in the Secret, and every probe points
// at a route the real server or worker answers with 200, on the port it really listens on.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <doctest/doctest.h>
#include <httplib.h>
#include <yaml-cpp/yaml.h>

#include "app/workflow_config.hpp"
#include "config/app_config.hpp"
#include "config/server_settings.hpp"
#include "config/worker_settings.hpp"
#include "plugin/plugin_library.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "server_fixture.hpp"

using conduit::testing::eventually;
using conduit::testing::Process;

namespace {

namespace fs = std::filesystem;

struct Probe {
  std::string container_command;  // serve, work, run
  std::string path;
  int port = 0;
};

struct Manifests {
  std::map<std::string, std::string> config;  // the ConfigMap's data
  std::set<std::string> secret_keys;
  std::vector<Probe> probes;
  std::vector<YAML::Node> documents;

  Manifests() {
    for (const auto& entry : fs::directory_iterator(CONDUIT_SOURCE_DIR "/packaging/kubernetes")) {
      // The Secret is an example (secret.yaml.example), not applied with the rest.
      if (entry.path().extension() != ".yaml" && entry.path().extension() != ".example") continue;
      for (const auto& document : YAML::LoadAllFromFile(entry.path().string())) {
        REQUIRE(document["apiVersion"]);
        REQUIRE(document["kind"]);
        REQUIRE(document["metadata"]["name"]);
        documents.push_back(document);
        read(document);
      }
    }
  }

  void read(const YAML::Node& document) {
    const auto kind = document["kind"].as<std::string>();
    if (kind == "ConfigMap") {
      for (const auto& item : document["data"])
        config[item.first.as<std::string>()] = item.second.as<std::string>();
    } else if (kind == "Secret") {
      for (const auto& item : document["stringData"])
        secret_keys.insert(item.first.as<std::string>());
    } else if (kind == "Deployment") {
      for (const auto& container : document["spec"]["template"]["spec"]["containers"]) {
        const auto command = container["args"][0].as<std::string>();
        std::set<int> ports;
        for (const auto& port : container["ports"])
          ports.insert(port["containerPort"].as<int>());
        for (const char* kind_of_probe : {"readinessProbe", "livenessProbe"}) {
          const auto probe = container[kind_of_probe]["httpGet"];
          REQUIRE(probe);
          Probe p{command, probe["path"].as<std::string>(), probe["port"].as<int>()};
          CHECK(ports.count(p.port) == 1);  // the probe's port is one the container opens
          probes.push_back(p);
        }
      }
    }
  }
};

bool answers200(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 300000);
  auto response = client.Get(path.c_str());
  return response && response->status == 200;
}

}  // namespace

TEST_CASE("kubernetes: the app config holds only keys Conduit and its Jira plugin read") {
  Manifests manifests;
  REQUIRE(manifests.config.count("app.env") == 1);
  REQUIRE_FALSE(manifests.secret_keys.empty());
  auto config = conduit::config::AppConfig::fromText(
      manifests.config["app.env"], "app.env", [](const std::string&) { return std::nullopt; });
  auto known = conduit::config::ServerSettings::knownKeys();
  known.insert(conduit::config::WorkerSettings::knownKeys().begin(),
               conduit::config::WorkerSettings::knownKeys().end());
  auto jira = conduit::plugin::PluginLibrary::load(CONDUIT_BUILT_PLUGIN_DIR, "jira");
  for (const char* const* key = jira.descriptor().config_keys; *key != nullptr; ++key)
    known.insert(*key);
  CHECK(config.unknownKeys(known).empty());

  // Every secret it reads from the Secret's mount is a key of the Secret.
  std::istringstream lines(manifests.config["app.env"]);
  for (std::string line; std::getline(lines, line);) {
    const std::string mount = "file:///run/secrets/conduit/";
    if (auto at = line.find(mount); at != std::string::npos) {
      CHECK(manifests.secret_keys.count(line.substr(at + mount.size())) == 1);
    }
  }
  // And the values Conduit checks are right: the port the probes use, for one.
  CHECK(config.get("port") == "9091");
  CHECK(config.get("worker_port") == "9093");
}

TEST_CASE("kubernetes: the state machines and workers.yaml of the ConfigMap validate") {
  Manifests manifests;
  const fs::path dir = fs::temp_directory_path() / "conduit-kubernetes-test";
  fs::create_directories(dir / "statemachines");
  std::ofstream(dir / "statemachines" / "jira.hcl") << manifests.config["jira.hcl"];
  std::ofstream(dir / "workers.yaml") << manifests.config["workers.yaml"];
  auto load = conduit::app::loadWorkflowConfig((dir / "statemachines").string(),
                                               (dir / "workers.yaml").string());
  for (const auto& error : load.errors)
    FAIL_CHECK(error);
  REQUIRE(load.config.workers);
  CHECK(load.config.workers->workers.size() == 1);
  fs::remove_all(dir);
}

TEST_CASE("kubernetes: the server's probes answer 200 on the port it listens on") {
  Manifests manifests;
  conduit::testing::ServerFixture server;
  int checked = 0;
  for (const auto& probe : manifests.probes) {
    if (probe.container_command != "serve") continue;
    CHECK(probe.port == conduit::config::ServerSettings::kDefaultPort);
    INFO(probe.path);
    CHECK(answers200(server.port(), probe.path));
    ++checked;
  }
  CHECK(checked == 2);
}

TEST_CASE("kubernetes: the worker's probes answer 200 on the port it listens on") {
  Manifests manifests;
  conduit::testing::RedisServer redis;
  const std::string dir = redis.directory();
  const int port = conduit::testing::freeLoopbackPort();
  std::ofstream(dir + "/app.env") << "redis_url=" << redis.url() << "\nbind=127.0.0.1\n"
                                  << "plugin_dir=" << CONDUIT_TEST_PLUGIN_DIR
                                  << "\nworker_port=" << port << "\nscripted_log=" << dir
                                  << "/calls.log\n";
  fs::create_directories(dir + "/statemachines");
  std::ofstream(dir + "/statemachines/jira.hcl") << manifests.config["jira.hcl"];
  std::ofstream(dir + "/workers.yaml")
      << "workers:\n  w:\n    plugin: scripted\n    statefile: jira.hcl\n    projects: [soc]\n";
  Process worker({CONDUIT_BINARY, "work", "--config", dir + "/app.env", "--hcl-dir",
                  dir + "/statemachines", "--worker-cfg", dir + "/workers.yaml"});
  REQUIRE(eventually([&] { return answers200(port, "/conduit-reactor/ping"); }));
  int checked = 0;
  for (const auto& probe : manifests.probes) {
    if (probe.container_command != "work") continue;
    CHECK(probe.port == conduit::config::WorkerSettings{}.worker_port);
    INFO(probe.path);
    CHECK(answers200(port, probe.path));
    ++checked;
  }
  CHECK(checked == 2);
}

TEST_CASE("kubernetes: the Service and the disruption budget select the server's pods") {
  Manifests manifests;
  std::map<std::string, std::string> server_labels;
  for (const auto& document : manifests.documents) {
    if (document["kind"].as<std::string>() == "Deployment" &&
        document["metadata"]["name"].as<std::string>() == "conduit-server") {
      for (const auto& label : document["spec"]["template"]["metadata"]["labels"])
        server_labels[label.first.as<std::string>()] = label.second.as<std::string>();
      CHECK(document["spec"]["replicas"].as<int>() >= 2);
    }
  }
  REQUIRE_FALSE(server_labels.empty());
  int checked = 0;
  for (const auto& document : manifests.documents) {
    const auto kind = document["kind"].as<std::string>();
    if (kind != "Service" && kind != "PodDisruptionBudget") continue;
    const YAML::Node selector = kind == "Service" ? document["spec"]["selector"]
                                                  : document["spec"]["selector"]["matchLabels"];
    REQUIRE(selector.IsMap());
    for (const auto& label : selector)
      CHECK(server_labels[label.first.as<std::string>()] == label.second.as<std::string>());
    if (kind == "Service") CHECK(document["spec"]["ports"][0]["targetPort"].as<int>() == 9091);
    ++checked;
  }
  CHECK(checked == 2);
}

TEST_CASE("kubernetes: the scrape annotations and the monitors reach /metrics with the token") {
  Manifests manifests;
  const std::string kToken = "metrics-token-0123456789abcdef";
  conduit::testing::ServerFixture server(
      [&](conduit::config::ServerSettings& s) { s.metrics_token = kToken; });
  std::map<std::string, std::set<std::string>> port_names;  // by component: server, worker
  int annotated = 0;
  for (const auto& document : manifests.documents) {
    if (document["kind"].as<std::string>() != "Deployment") continue;
    const auto pod = document["spec"]["template"];
    const auto component =
        pod["metadata"]["labels"]["app.kubernetes.io/component"].as<std::string>();
    const auto annotations = pod["metadata"]["annotations"];
    REQUIRE(annotations);
    CHECK(annotations["prometheus.io/scrape"].as<std::string>() == "true");
    const int port = std::stoi(annotations["prometheus.io/port"].as<std::string>());
    const auto path = annotations["prometheus.io/path"].as<std::string>();
    CHECK(path == "/metrics");
    std::set<int> container_ports;
    for (const auto& container_port : pod["spec"]["containers"][0]["ports"]) {
      container_ports.insert(container_port["containerPort"].as<int>());
      port_names[component].insert(container_port["name"].as<std::string>());
    }
    CHECK(container_ports.count(port) == 1);
    // The server's path answers 200 with the metrics_token (the worker's: metrics_test.cpp).
    if (component == "server") {
      auto client = server.client();
      auto response = client.Get(path, {{"Authorization", "Bearer " + kToken}});
      REQUIRE(response);
      CHECK(response->status == 200);
    }
    ++annotated;
  }
  CHECK(annotated == 2);

  // The app config reads metrics_token from the Secret, which the monitors send as a bearer.
  CHECK(manifests.config["app.env"].find(
            "\nmetrics_token=file:///run/secrets/conduit/metrics_token\n") != std::string::npos);
  CHECK(manifests.secret_keys.count("metrics_token") == 1);
  std::set<std::string> service_ports;
  for (const auto& document : manifests.documents) {
    if (document["kind"].as<std::string>() == "Service") {
      for (const auto& port : document["spec"]["ports"])
        service_ports.insert(port["name"].as<std::string>());
    }
  }
  int monitors = 0;
  for (const auto& document : manifests.documents) {
    const auto kind = document["kind"].as<std::string>();
    if (kind != "ServiceMonitor" && kind != "PodMonitor") continue;
    const auto endpoints = kind == "ServiceMonitor" ? document["spec"]["endpoints"]
                                                    : document["spec"]["podMetricsEndpoints"];
    REQUIRE(endpoints.size() == 1);
    const auto endpoint = endpoints[0];
    CHECK(endpoint["path"].as<std::string>() == "/metrics");
    CHECK(endpoint["bearerTokenSecret"]["name"].as<std::string>() == "conduit-secrets");
    CHECK(endpoint["bearerTokenSecret"]["key"].as<std::string>() == "metrics_token");
    const auto port = endpoint["port"].as<std::string>();
    if (kind == "ServiceMonitor") {
      CHECK(service_ports.count(port) == 1);
    } else {
      CHECK(document["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
                .as<std::string>() == "worker");
      CHECK(port_names["worker"].count(port) == 1);
    }
    ++monitors;
  }
  CHECK(monitors == 2);
}
