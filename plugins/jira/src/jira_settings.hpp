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
  // published release move their issues `next`. A kind mapped to nothing (`release.published:`
  // or "") is a trigger that moves nothing: its issues still get fix versions and links.
  std::map<std::string, std::string> triggers = {{"pull_request.merged", "next"},
                                                 {"release.published", "next"}};
  bool comment = false;  // comment on each moved issue
  bool dry_run = false;  // log what would happen; change nothing in Jira
  // workers.yaml: the issues one event may move; past it the first ones are moved and a
  // warning says how many were left out.
  size_t max_keys_per_event = 100;
  std::set<std::string> projects;  // upper case

  // fix_versions: a published release (and a pushed tag, when `tag` is a trigger) becomes the
  // fix version of the issues it names, named by fix_version_name ({tag}, {name}, {repo}).
  bool fix_versions = false;
  std::string fix_version_name = "{tag}";
  // smart_commits: `SOC-12 #comment ...`, `#time 1h ...`, `#<transition>` in the commit
  // messages of a push and in a merged pull request's title and body.
  bool smart_commits = false;
  // link: each issue an event names gets a remote link to the pull request, release or commit.
  bool link = false;
  // key_case: exact (SOC-12 only, as Jira writes keys) or insensitive (soc-12 and Soc-12 too).
  enum class KeyCase { kExact, kInsensitive };
  KeyCase key_case = KeyCase::kExact;
  // concurrency: how many of one event's issues are worked on at once.
  size_t concurrency = 4;
  // atlassian_max_requests_per_second: requests to the Jira site per second from this worker
  // process, all its threads together; 0: no limit but Jira's own 429s.
  double max_requests_per_second = 0;
};

inline constexpr double kMinRequestsPerSecond = 0.01;  // atlassian_max_requests_per_second
inline constexpr double kMaxRequestsPerSecond = 100000;
inline constexpr size_t kMinConcurrency = 1;
inline constexpr size_t kMaxConcurrency = 64;
inline constexpr size_t kMaxFixVersionNameBytes = 255;  // Jira's limit on a version's name

// Reads an app-config key: nullopt when unset.
using ConfigLookup = std::function<std::optional<std::string>(std::string_view key)>;

// The app-config keys the plugin reads (declared in its descriptor).
inline constexpr const char* kConfigKeys[] = {"atlassian_domain_url",
                                              "atlassian_email",
                                              "atlassian_api_key",
                                              "atlassian_pat",
                                              "atlassian_timeout_ms",
                                              "atlassian_max_requests_per_second",
                                              nullptr};

// Builds the settings, or throws std::invalid_argument naming the key or field at fault.
inline constexpr size_t kMinKeysPerEvent = 1;
inline constexpr size_t kMaxKeysPerEvent = 10000;

JiraSettings readSettings(std::string_view worker_json, const std::set<std::string>& projects,
                          const ConfigLookup& config);

// Parses a Jira address: https://host[:port][/path], or http:// for a loopback host only
// (127.0.0.1, ::1, localhost: the simulator, tests). Throws std::invalid_argument.
JiraAddress parseAddress(std::string_view url);

std::string base64(std::string_view bytes);

// Throws std::invalid_argument when `name` (fix_version_name) holds a `{...}` that is not one of
// the placeholders {tag}, {name} and {repo}.
void checkFixVersionName(std::string_view name);

}  // namespace conduit::jira
