#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace conduit::jira {

// How the plugin signs its requests to Jira.
struct Credentials {
  // `Authorization: Basic base64(email:api_token)` (Jira Cloud) or `Bearer <pat>` (Data Center).
  std::string authorization;
  std::string who;  // for log lines: the email, or "a personal access token"; never the secret
};

// Where Jira is: https://example.atlassian.net, or a Data Center base with a context path.
struct JiraAddress {
  std::string scheme_host_port;  // https://jira.example.com:8443
  std::string base_path;         // "" or /jira
};

// A worker's settings: its workers.yaml entry and the app-config keys the plugin declares.
struct JiraSettings {
  JiraAddress address;
  Credentials credentials;
  // atlassian_timeout_ms: the deadline of each request to Jira as a whole, from connecting to
  // the last byte of the answer.
  std::chrono::milliseconds timeout{10000};
  // workers.yaml: event kind -> state machine event; by default a merged pull request and a
  // published release move their issues `next`.
  std::map<std::string, std::string> triggers = {{"pull_request.merged", "next"},
                                                 {"release.published", "next"}};
  bool comment = false;  // comment on each moved issue
  bool dry_run = false;  // log what would happen; change nothing in Jira
  // workers.yaml: the issues one event may move; past it the first ones are moved and a
  // warning says how many were left out.
  size_t max_keys_per_event = 100;
  std::set<std::string> projects;  // upper case
};

// Reads an app-config key: nullopt when unset.
using ConfigLookup = std::function<std::optional<std::string>(std::string_view key)>;

// The app-config keys the plugin reads (declared in its descriptor).
inline constexpr const char* kConfigKeys[] = {"atlassian_domain_url", "atlassian_email",
                                              "atlassian_api_key",    "atlassian_pat",
                                              "atlassian_timeout_ms", nullptr};

// Builds the settings, or throws std::invalid_argument naming the key or field at fault.
inline constexpr size_t kMinKeysPerEvent = 1;
inline constexpr size_t kMaxKeysPerEvent = 10000;

JiraSettings readSettings(std::string_view worker_json, const std::set<std::string>& projects,
                          const ConfigLookup& config);

// Parses a Jira address: https://host[:port][/path], or http:// for a loopback host only
// (127.0.0.1, ::1, localhost: the simulator, tests). Throws std::invalid_argument.
JiraAddress parseAddress(std::string_view url);

std::string base64(std::string_view bytes);

}  // namespace conduit::jira
