#include "jira_settings.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace conduit::jira {
namespace {

std::invalid_argument invalid(const std::string& message) {
  return std::invalid_argument(message);
}

bool isLoopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost";
}

bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

// A path that goes into every request line as it is: printable, no query or fragment.
bool isPlainPath(std::string_view path) {
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f || c == '?' || c == '#') return false;
  }
  return true;
}

// A credential goes into a header: surrounding blanks (a file's CRLF) are dropped, and any
// other control character is refused rather than sent.
std::string credential(const char* key, std::string value) {
  const size_t first = value.find_first_not_of(" \t\r\n");
  const size_t last = value.find_last_not_of(" \t\r\n");
  value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  for (char c : value) {
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
      throw invalid(std::string(key) + ": contains a control character");
    }
  }
  return value;
}

bool readFlag(const rapidjson::Value& entry, const char* name) {
  auto it = entry.FindMember(name);
  if (it == entry.MemberEnd()) return false;
  if (!it->value.IsBool()) {
    throw invalid(std::string("workers.yaml: `") + name + "` must be true or false");
  }
  return it->value.GetBool();
}

// The keys a Jira worker's workers.yaml entry may hold: conduit's own, then the plugin's.
constexpr std::string_view kEntryKeys[] = {
    "statefile", "projects",           "plugin",       "triggers",         "comment",
    "dry_run",   "max_keys_per_event", "fix_versions", "fix_version_name", "smart_commits",
    "link",      "key_case",           "concurrency"};

// How many single-character edits turn `a` into `b` (both short: key names).
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// A key nobody reads is most often a typo (`fix_version`), which would otherwise turn a
// feature silently off: refused at start-up, with the key meant when one is close.
void refuseUnknownKeys(const rapidjson::Value& entry) {
  for (const auto& member : entry.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (std::find(std::begin(kEntryKeys), std::end(kEntryKeys), name) != std::end(kEntryKeys)) {
      continue;
    }
    std::string message = "workers.yaml: `" + std::string(name.substr(0, 100)) +
                          "` is not a key of the Jira processor";
    for (std::string_view known : kEntryKeys) {
      if (editDistance(name.substr(0, 100), known) <= 2) {
        message += " (did you mean `" + std::string(known) + "`?)";
        break;
      }
    }
    std::string all;
    for (std::string_view known : kEntryKeys)
      all += (all.empty() ? "" : ", ") + std::string(known);
    throw invalid(message + "; its keys are " + all);
  }
}

}  // namespace

void checkFixVersionName(std::string_view name) {
  for (size_t open = name.find('{'); open != std::string_view::npos;
       open = name.find('{', open + 1)) {
    const size_t close = name.find('}', open);
    const std::string_view placeholder = name.substr(
        open, close == std::string_view::npos ? std::string_view::npos : close - open + 1);
    if (placeholder != "{tag}" && placeholder != "{name}" && placeholder != "{repo}") {
      throw invalid("workers.yaml: `fix_version_name`: `" + std::string(placeholder) +
                    "` is not a placeholder (use {tag}, {name} or {repo})");
    }
  }
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t chunk = 0;
    for (size_t j = 0; j < 3; ++j) {
      chunk = (chunk << 8) | (j < n ? static_cast<unsigned char>(bytes[i + j]) : 0);
    }
    for (size_t j = 0; j < 4; ++j) {
      out.push_back(j <= n ? kAlphabet[(chunk >> (18 - 6 * j)) & 0x3f] : '=');
    }
  }
  return out;
}

JiraAddress parseAddress(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    throw invalid("atlassian_domain_url: `" + std::string(url) +
                  "` is not a URL (https://your-site.atlassian.net)");
  }
  const std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    throw invalid("atlassian_domain_url: `" + std::string(url) + "` has no host (or has a user)");
  }
  std::string_view host = authority;
  if (host.front() == '[') {
    throw invalid("atlassian_domain_url: `" + std::string(host) +
                  "` is not a host name (an IPv6 address is not supported: use a name)");
  }
  if (size_t colon = host.find(':'); colon != std::string_view::npos) {
    const std::string_view port = host.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      throw invalid("atlassian_domain_url: `" + std::string(port) + "` is not a port number");
    }
    host = host.substr(0, colon);
  }
  if (host.empty() || !std::all_of(host.begin(), host.end(), isHostChar)) {
    throw invalid("atlassian_domain_url: `" + std::string(host) +
                  "` is not a host name (an IPv6 address is not supported: use a name)");
  }
  if (!isPlainPath(path)) {
    throw invalid("atlassian_domain_url: the path `" + std::string(path) +
                  "` may not hold blanks, control characters, a query or a fragment");
  }
  if (scheme == "http") {
    if (!isLoopback(host)) {
      throw invalid(
          "atlassian_domain_url: plain http:// is only for a Jira on this machine "
          "(127.0.0.1, localhost); use https:// for `" +
          std::string(host) + "`");
    }
  } else if (scheme != "https") {
    throw invalid("atlassian_domain_url: the scheme must be https (not `" + std::string(scheme) +
                  "`)");
  }
  return JiraAddress{std::string(scheme) + "://" + std::string(authority), std::string(path)};
}

JiraSettings readSettings(std::string_view worker_json, const std::set<std::string>& projects,
                          const ConfigLookup& config) {
  JiraSettings settings;
  settings.projects = projects;

  rapidjson::Document entry;
  entry.Parse(worker_json.data(), worker_json.size());
  if (entry.HasParseError() || !entry.IsObject()) {
    throw invalid("workers.yaml: the worker's entry is not a mapping");
  }
  refuseUnknownKeys(entry);
  if (auto it = entry.FindMember("triggers"); it != entry.MemberEnd()) {
    if (!it->value.IsObject() || it->value.MemberCount() == 0) {
      throw invalid(
          "workers.yaml: `triggers` must map event kinds to state machine events, "
          "as in `pull_request.merged: next`");
    }
    settings.triggers.clear();
    for (const auto& trigger : it->value.GetObject()) {
      // Nothing (null, "") is a trigger that moves nothing: fix versions and links only.
      if (trigger.value.IsNull()) {
        settings.triggers[trigger.name.GetString()] = "";
        continue;
      }
      if (!trigger.value.IsString()) {
        throw invalid(std::string("workers.yaml: triggers: `") + trigger.name.GetString() +
                      "` must name a state machine event (a string such as next), or nothing");
      }
      settings.triggers[trigger.name.GetString()] = trigger.value.GetString();
    }
  }
  if (auto it = entry.FindMember("max_keys_per_event"); it != entry.MemberEnd()) {
    if (!it->value.IsUint64() || it->value.GetUint64() < kMinKeysPerEvent ||
        it->value.GetUint64() > kMaxKeysPerEvent) {
      throw invalid("workers.yaml: `max_keys_per_event` must be a number from " +
                    std::to_string(kMinKeysPerEvent) + " to " + std::to_string(kMaxKeysPerEvent));
    }
    settings.max_keys_per_event = static_cast<size_t>(it->value.GetUint64());
  }
  settings.comment = readFlag(entry, "comment");
  settings.dry_run = readFlag(entry, "dry_run");
  settings.fix_versions = readFlag(entry, "fix_versions");
  settings.smart_commits = readFlag(entry, "smart_commits");
  settings.link = readFlag(entry, "link");
  if (auto it = entry.FindMember("fix_version_name"); it != entry.MemberEnd()) {
    if (!it->value.IsString()) {
      throw invalid("workers.yaml: `fix_version_name` must be a text such as \"{tag}\"");
    }
    settings.fix_version_name = it->value.GetString();
    checkFixVersionName(settings.fix_version_name);
  }
  if (auto it = entry.FindMember("key_case"); it != entry.MemberEnd()) {
    const std::string value = it->value.IsString() ? it->value.GetString() : "";
    if (value == "exact") {
      settings.key_case = JiraSettings::KeyCase::kExact;
    } else if (value == "insensitive") {
      settings.key_case = JiraSettings::KeyCase::kInsensitive;
    } else {
      throw invalid("workers.yaml: `key_case` must be exact or insensitive");
    }
  }
  if (auto it = entry.FindMember("concurrency"); it != entry.MemberEnd()) {
    if (!it->value.IsUint64() || it->value.GetUint64() < kMinConcurrency ||
        it->value.GetUint64() > kMaxConcurrency) {
      throw invalid("workers.yaml: `concurrency` must be a number from " +
                    std::to_string(kMinConcurrency) + " to " + std::to_string(kMaxConcurrency));
    }
    settings.concurrency = static_cast<size_t>(it->value.GetUint64());
  }

  const auto url = config("atlassian_domain_url");
  if (!url || url->empty()) {
    throw invalid(
        "atlassian_domain_url is not set: the Jira processor needs your Jira's "
        "address (https://your-site.atlassian.net)");
  }
  settings.address = parseAddress(*url);

  const std::string pat = credential("atlassian_pat", config("atlassian_pat").value_or(""));
  if (!pat.empty()) {
    settings.credentials = {"Bearer " + pat, "a personal access token"};
  } else {
    const std::string email = credential("atlassian_email", config("atlassian_email").value_or(""));
    const std::string token =
        credential("atlassian_api_key", config("atlassian_api_key").value_or(""));
    if (email.empty() || token.empty()) {
      throw invalid(
          "Jira credentials are not set: set atlassian_email and atlassian_api_key "
          "(Jira Cloud), or atlassian_pat (Jira Data Center)");
    }
    settings.credentials = {"Basic " + base64(email + ":" + token), email};
  }

  if (auto timeout = config("atlassian_timeout_ms")) {
    long long ms = 0;
    auto [end, ec] = std::from_chars(timeout->data(), timeout->data() + timeout->size(), ms);
    if (ec != std::errc() || end != timeout->data() + timeout->size() || ms < 100 || ms > 600000) {
      throw invalid("atlassian_timeout_ms: `" + *timeout + "` is not a number from 100 to 600000");
    }
    settings.timeout = std::chrono::milliseconds(ms);
  }
  if (auto rate = config("atlassian_max_requests_per_second"); rate && !rate->empty()) {
    double value = -1;
    auto [end, ec] = std::from_chars(rate->data(), rate->data() + rate->size(), value);
    // Below one request in 100 s a worker could not make one move within Jira's deadline,
    // and a wait that long no longer fits the clock's arithmetic: a slip, not a setting.
    const bool limit = value >= kMinRequestsPerSecond && value <= kMaxRequestsPerSecond;
    if (ec != std::errc() || end != rate->data() + rate->size() || !(value == 0 || limit)) {
      throw invalid("atlassian_max_requests_per_second: `" + *rate +
                    "` is neither 0 (no limit) nor a number from 0.01 to 100000");
    }
    settings.max_requests_per_second = value;
  }
  return settings;
}

}  // namespace conduit::jira
