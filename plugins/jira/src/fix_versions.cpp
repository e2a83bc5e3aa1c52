#include "fix_versions.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>
#include <vector>

#include "issue_keys.hpp"

namespace conduit::jira {
namespace {

// Checkpoint keys, per issue key or project, kept for the delivery across retries and crashes.
std::string doneCheckpoint(const std::string& key) {
  return "fixversion:" + key;  // the version the issue has now: done
}
std::string failedCheckpoint(const std::string& key) {
  return "fixversion-failed:" + key;  // failed for good: not tried again by a retry
}
std::string versionCheckpoint(const std::string& project) {
  return "version:" + project;  // the name of the version found or made in the project
}

// A message kept in a checkpoint: the host keeps values of at most 4096 bytes.
std::string forCheckpoint(std::string message) {
  constexpr size_t kMax = 1024;
  if (message.size() > kMax) message = message.substr(0, kMax) + "...";
  return message;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The version named `name` in `versions`: the same name, else one differing only in case (Jira
// refuses a second version whose name differs only so); nullptr when none.
const Version* findVersion(const std::vector<Version>& versions, const std::string& name) {
  for (const auto& version : versions) {
    if (version.name == name) return &version;
  }
  for (const auto& version : versions) {
    if (equalsIgnoringCase(version.name, name)) return &version;
  }
  return nullptr;
}

// The lease that makes the threads and processes of this worker look for, and make, one
// version of a name in a project one at a time. Lease names have at most 256 bytes: a long
// version name is hashed (FNV-1a) into it.
std::string leaseName(const std::string& project, const std::string& name) {
  std::string lease = "version:" + project + ":";
  if (lease.size() + name.size() <= 256) return lease + name;
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  static const char* const kHex = "0123456789abcdef";
  lease += "#";
  for (int shift = 60; shift >= 0; shift -= 4)
    lease += kHex[(hash >> shift) & 0xf];
  return lease;
}

bool isDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

}  // namespace

VersionName versionNameOf(std::string_view pattern, const sdk::Event& event) {
  const std::string_view repo = event.repository().empty() ? event.repoPath() : event.repository();
  std::string name;
  for (size_t i = 0; i < pattern.size();) {
    if (pattern[i] == '{') {
      const size_t close = pattern.find('}', i);
      const std::string_view placeholder = pattern.substr(
          i, close == std::string_view::npos ? std::string_view::npos : close - i + 1);
      std::optional<std::string_view> value;
      if (placeholder == "{tag}") value = event.tag();
      if (placeholder == "{name}") value = event.releaseName();
      if (placeholder == "{repo}") value = repo;
      if (value) {
        name += *value;
        i += placeholder.size();
        continue;
      }
    }
    name += pattern[i++];
  }
  // A release's name may hold a line break or a tab: Jira's names are one line.
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  const size_t first = name.find_first_not_of(' ');
  name =
      first == std::string::npos ? "" : name.substr(first, name.find_last_not_of(' ') - first + 1);

  VersionName result;
  if (name.empty()) {
    result.error = "fix_version_name \"" + std::string(pattern) + "\" comes out empty for " +
                   std::string(event.kind()) + " (tag \"" + std::string(event.tag()) +
                   "\", name \"" + std::string(event.releaseName()) + "\")";
  } else if (name.size() > kMaxFixVersionNameBytes) {
    result.error = "fix_version_name \"" + std::string(pattern) + "\" comes out " +
                   std::to_string(name.size()) + " bytes long, over Jira's " +
                   std::to_string(kMaxFixVersionNameBytes) + " for a version's name: \"" +
                   name.substr(0, 60) + "...\"";
  } else {
    result.name = std::move(name);
  }
  return result;
}

std::string releaseDateOf(std::string_view released_at, std::chrono::system_clock::time_point now) {
  // The date as the host wrote it: the day the release was published where it was published.
  if (released_at.size() >= 10 && isDigits(released_at.substr(0, 4)) && released_at[4] == '-' &&
      isDigits(released_at.substr(5, 2)) && released_at[7] == '-' &&
      isDigits(released_at.substr(8, 2)) &&
      (released_at.size() == 10 || released_at[10] == 'T' || released_at[10] == 't' ||
       released_at[10] == ' ')) {
    return std::string(released_at.substr(0, 10));
  }
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", &utc);
  return date;
}

FixVersions::FixVersions(const sdk::Host& host, JiraClient& client, const JiraSettings& settings,
                         std::chrono::milliseconds lease_ttl, std::chrono::milliseconds lease_wait)
    : host_(host),
      client_(client),
      settings_(settings),
      lease_ttl_(lease_ttl),
      lease_wait_(lease_wait) {}

bool FixVersions::appliesTo(const sdk::Event& event) const {
  if (!settings_.fix_versions) return false;
  if (event.kind() == "release.published") return true;
  // A tag is not always a release: only where the worker says so.
  return event.kind() == "tag" && settings_.triggers.count("tag") > 0;
}

IssueOutcome FixVersions::fail(const std::string& key, std::string message,
                               sdk::Delivery& delivery) const {
  message = forCheckpoint(std::move(message));
  delivery.put(failedCheckpoint(key), message);
  host_.warn(message);
  host_.count("jira.failed");
  host_.report(delivery, "failed", {{"issue", key}, {"reason", message}});
  return {IssueOutcome::Kind::kFailed, std::move(message), {}};
}

IssueOutcome FixVersions::forIssue(const std::string& key, const sdk::Event& event,
                                   sdk::Delivery& delivery) const {
  if (!appliesTo(event)) return {};
  try {
    if (delivery.get(doneCheckpoint(key))) return {};
    // Failed for good: not tried again by the delivery's retries; a replay (attempt 1) does.
    if (auto failed = delivery.get(failedCheckpoint(key)); failed && event.attempt() > 1) {
      host_.report(delivery, "failed", {{"issue", key}, {"reason", *failed}});
      return {IssueOutcome::Kind::kFailed, *failed, {}};
    }
    const VersionName version = versionNameOf(settings_.fix_version_name, event);
    if (!version.error.empty())
      return fail(key, key + ": no fix version: " + version.error, delivery);
    if (settings_.dry_run) {
      host_.info("dry run: would give " + key + " the fix version \"" + version.name + "\"");
      host_.report(delivery, "skipped",
                   {{"issue", key},
                    {"reason", "dry run: would give it the fix version \"" + version.name + "\""}});
      return {};
    }
    auto outcome =
        withShortWaits(client_, [&] { return forIssueOnce(key, version.name, event, delivery); });
    if (outcome.kind == IssueOutcome::Kind::kFailed) return fail(key, outcome.message, delivery);
    if (outcome.kind == IssueOutcome::Kind::kRetry) host_.count("jira.retries");
    return outcome;
  } catch (const sdk::HostError& e) {
    return {IssueOutcome::Kind::kRetry, key + ": fix version: " + e.what(), {}};
  }
}

IssueOutcome FixVersions::forIssueOnce(const std::string& key, const std::string& name,
                                       const sdk::Event& event, sdk::Delivery& delivery) const {
  const std::string project(projectOf(key));
  if (auto outcome = ensureVersion(project, name, event, delivery);
      outcome.kind != IssueOutcome::Kind::kDone) {
    return outcome;
  }
  // The name as Jira has it (it may differ in case from ours).
  const std::string jira_name = delivery.get(versionCheckpoint(project)).value_or(name);

  // Read first: an issue that has the version (given by a second release event of the same
  // tag, or by hand) is left alone, and the report says it was there.
  auto answer = client_.fixVersions(key);
  if (auto* failure = std::get_if<JiraFailure>(&answer)) return outcomeOf(key, *failure);
  if (findVersion(std::get<std::vector<Version>>(answer), jira_name) != nullptr) {
    delivery.put(doneCheckpoint(key), jira_name);
    host_.info(key + " has the fix version \"" + jira_name + "\" already");
    host_.report(delivery, "skipped",
                 {{"issue", key}, {"reason", "has the fix version \"" + jira_name + "\" already"}});
    return {};
  }
  if (auto failure = client_.addFixVersion(key, jira_name)) {
    // Lost answers need no check here: adding a version the issue has changes nothing, and the
    // next attempt reads the issue first.
    auto outcome = outcomeOf(key, *failure);
    if (outcome.kind == IssueOutcome::Kind::kCredentialsRefused) {
      outcome.message +=
          " (setting fix versions needs the \"Edit issues\" and \"Resolve issues\" "
          "project permissions)";
    }
    return outcome;
  }
  delivery.put(doneCheckpoint(key), jira_name);
  host_.info(key + " has the fix version \"" + jira_name + "\" now");
  host_.count("jira.fix_versions");
  host_.report(delivery, "fix_version", {{"issue", key}, {"version", jira_name}});
  return {};
}

IssueOutcome FixVersions::ensureVersion(const std::string& project, const std::string& name,
                                        const sdk::Event& event, sdk::Delivery& delivery) const {
  if (auto known = delivery.get(versionCheckpoint(project));
      known && equalsIgnoringCase(*known, name))
    return {};
  auto found = [&](const Version& version) {
    delivery.put(versionCheckpoint(project), version.name);
    return IssueOutcome{};
  };
  // Another key of the project, in another thread, or another worker process, may be making it.
  auto lease = host_.lease(leaseName(project, name), lease_ttl_, lease_wait_);
  if (!lease) {
    host_.count("jira.lease_busy");
    return {IssueOutcome::Kind::kRetry,
            project + ": another delivery is still making the version \"" + name + "\" (waited " +
                std::to_string(lease_wait_.count()) + " ms for its lease)",
            {}};
  }
  auto listed = client_.versions(project);
  if (auto* failure = std::get_if<JiraFailure>(&listed)) return outcomeOf(project, *failure);
  if (const Version* version = findVersion(std::get<std::vector<Version>>(listed), name)) {
    return found(*version);
  }
  if (!lease->extend(lease_ttl_)) {
    return {IssueOutcome::Kind::kRetry,
            project + ": the lease on the version \"" + name + "\" expired",
            {}};
  }

  NewVersion version{project, name, true,
                     releaseDateOf(event.releasedAt(), std::chrono::system_clock::now())};
  auto made = client_.createVersion(version);
  if (auto* created = std::get_if<Version>(&made)) {
    host_.info(project + ": made the version \"" + created->name + "\" (released " +
               version.release_date + ")");
    host_.count("jira.versions_created");
    host_.report(delivery, "version_created", {{"project", project}, {"version", created->name}});
    return found(*created);
  }
  const JiraFailure& failure = std::get<JiraFailure>(made);
  // A 400 is how Jira refuses a name the project has: another process made it since the list
  // was read. A lost answer may hide one we made. Either way the list says.
  const bool duplicate = failure.kind == JiraFailure::Kind::kRejected && failure.status == 400;
  if (duplicate || failure.ambiguous) {
    auto again = client_.versions(project);
    if (auto* versions = std::get_if<std::vector<Version>>(&again)) {
      if (const Version* existing = findVersion(*versions, name)) {
        host_.info(project + ": the version \"" + existing->name + "\" was made meanwhile (" +
                   failure.message + "); using it");
        return found(*existing);
      }
    }
  }
  auto outcome = outcomeOf(project, failure);
  if (outcome.kind == IssueOutcome::Kind::kCredentialsRefused) {
    outcome.message +=
        " (making versions needs the \"Administer projects\" project permission, or "
        "\"Administer Jira\")";
  } else if (outcome.kind == IssueOutcome::Kind::kFailed) {
    outcome.message =
        project + ": the version \"" + name + "\" could not be made: " + outcome.message;
  }
  return outcome;
}

}  // namespace conduit::jira
