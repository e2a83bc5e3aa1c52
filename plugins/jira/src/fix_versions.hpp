#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <conduit/sdk.hpp>

#include "issue_outcome.hpp"
#include "jira_client.hpp"
#include "jira_settings.hpp"

namespace conduit::jira {

// fix_version_name expanded for an event: the version's name, or why there is none.
struct VersionName {
  std::string name;
  std::string error;  // set when the name came out empty or too long for Jira
};

// Replaces {tag}, {name} (the release's name) and {repo} (the repository's path) in `pattern`,
// once each (a value holding "{tag}" is not expanded again). Control characters become spaces
// and the ends are trimmed, as Jira stores names.
VersionName versionNameOf(std::string_view pattern, const sdk::Event& event);

// A version's releaseDate: the date part (YYYY-MM-DD) of when the release was published, as the
// host wrote it (RFC 3339, or GitLab's "2021-02-25 21:23:34 UTC"); else `now`'s date in UTC.
std::string releaseDateOf(std::string_view released_at, std::chrono::system_clock::time_point now);

// Fix versions from releases (fix_versions: true): a published release (and a pushed tag, when
// `tag` is a trigger) becomes a version of each project it names, released, and each issue it
// names gets it as a fix version, keeping the ones it has.
//
// Never twice: a version is looked for by name before one is made, under a lease per project
// and name (two threads of a process make one); a 400 from Jira for a name made meanwhile by
// another process is answered by reading the list again. An issue's fix versions are read before
// adding, and `fixversion:<KEY>` remembers it is done for the delivery's retries.
class FixVersions {
 public:
  // `lease_ttl`, `lease_wait`: those of the issues' leases (they cover one request).
  FixVersions(const sdk::Host& host, JiraClient& client, const JiraSettings& settings,
              std::chrono::milliseconds lease_ttl, std::chrono::milliseconds lease_wait);

  // Whether this worker gives `event`'s issues a fix version.
  bool appliesTo(const sdk::Event& event) const;

  // Gives `key` the event's fix version, making the version in its project first if it has
  // none. Thread-safe: the processor may run it for several keys at once.
  IssueOutcome forIssue(const std::string& key, const sdk::Event& event,
                        sdk::Delivery& delivery) const;

 private:
  IssueOutcome forIssueOnce(const std::string& key, const std::string& name,
                            const sdk::Event& event, sdk::Delivery& delivery) const;
  // Finds the project's version `name`, or makes it; done once it exists.
  IssueOutcome ensureVersion(const std::string& project, const std::string& name,
                             const sdk::Event& event, sdk::Delivery& delivery) const;
  IssueOutcome fail(const std::string& key, std::string message, sdk::Delivery& delivery) const;

  const sdk::Host& host_;
  JiraClient& client_;
  const JiraSettings& settings_;
  std::chrono::milliseconds lease_ttl_;
  std::chrono::milliseconds lease_wait_;
};

}  // namespace conduit::jira
