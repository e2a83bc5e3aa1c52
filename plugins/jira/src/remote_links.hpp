#pragma once

#include <set>
#include <string>
#include <vector>

#include <conduit/sdk.hpp>

#include "issue_outcome.hpp"
#include "jira_client.hpp"
#include "jira_settings.hpp"

namespace conduit::jira {

// The links `event` gives the issue `key`: one to the pull or merge request, or to the release;
// for a push, one per commit whose message names the key (a key of `projects`). None where the
// host sent no URL. `key_case` as the worker's: with kInsensitive, `soc-1` in a commit's message
// names SOC-1 too.
std::vector<RemoteLink> linksFor(const std::string& key, const sdk::Event& event,
                                 const std::set<std::string>& projects,
                                 JiraSettings::KeyCase key_case = JiraSettings::KeyCase::kExact);

// Links back to the code (link: true): each issue an event names gets a remote link to the pull
// request, merge request, release or commit, whose global id is the page's URL, so that posting
// it again (a retry, a replay, the pull request's next event) updates the same link.
class RemoteLinks {
 public:
  RemoteLinks(const sdk::Host& host, JiraClient& client, const JiraSettings& settings);

  // Whether this worker links `event`'s issues: a pull request opened, merged or closed, a
  // published release, a push.
  bool appliesTo(const sdk::Event& event) const;

  // Posts `key`'s links; `link:<KEY>` (`link:<KEY>:<commit>` for a commit) remembers each for
  // the delivery's retries. Thread-safe: the processor may run it for several keys at once.
  IssueOutcome forIssue(const std::string& key, const sdk::Event& event,
                        sdk::Delivery& delivery) const;

 private:
  IssueOutcome linkOnce(const std::string& key, const RemoteLink& link,
                        const std::string& checkpoint, sdk::Delivery& delivery) const;

  const sdk::Host& host_;
  JiraClient& client_;
  const JiraSettings& settings_;
};

}  // namespace conduit::jira
