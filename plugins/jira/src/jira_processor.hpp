#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <conduit/sdk.hpp>

#include "fix_versions.hpp"
#include "issue_outcome.hpp"
#include "jira_client.hpp"
#include "jira_settings.hpp"
#include "remote_links.hpp"
#include "smart_commits.hpp"

namespace conduit::jira {

// The Jira processor: for each event its triggers name, finds the issue keys of its projects and
// moves each issue to where the project's state machine says the trigger's event leads.
class JiraProcessor : public sdk::Processor {
 public:
  static constexpr const char* const* kConfigKeys = jira::kConfigKeys;

  void configure(const sdk::Config& config) override;
  sdk::Result process(const sdk::Event& event, sdk::Delivery& delivery) override;

 private:
  // How one issue key of the event went: its move, fix version and link together.
  using KeyOutcome = IssueOutcome;

  // Whether a transition whose answer was lost was applied.
  enum class Applied { kYes, kNo, kUnknown };

  // All that is done for one issue key the event names: the move its trigger leads to (and the
  // comment), its fix version and its link. process() runs one per key, up to settings_.concurrency
  // at a time, each on a thread of its own: what it does must be safe from any thread (the host's
  // functions are) and stay within its key. Work added per key belongs here.
  KeyOutcome handleKey(const std::string& key, const sdk::Event& event, sdk::Delivery& delivery);
  // The per-issue part of process(): finds the issues the event names and runs handleKey() for
  // each. `acted`: something else (smart commits) was done for the event, which is then not
  // reported as ignored.
  sdk::Result moveIssues(const sdk::Event& event, sdk::Delivery& delivery, bool acted);
  // Moves the issue if this delivery has not yet, then comments if configured; again after a
  // short Retry-After.
  KeyOutcome handleIssue(const std::string& key, const std::string& machine_event,
                         const sdk::Event& event, sdk::Delivery& delivery);
  // `first_round`: not a round after a short Retry-After wait within the same call.
  KeyOutcome handleIssueOnce(const std::string& key, const std::string& machine_event,
                             const sdk::Event& event, sdk::Delivery& delivery, bool first_round);
  // Under the issue's lease: reads its status, decides where the event leads from there and
  // applies the transition; done means moved, or nothing to do (<end>, a dry run).
  KeyOutcome moveIssue(const std::string& key, const std::string& machine_event,
                       const sdk::Event& event, sdk::Delivery& delivery);
  // Reads the issue again to tell (its status still `from`, or not), keeping the lease.
  Applied checkApplied(const std::string& key, const std::string& from, const std::string& reaching,
                       const std::function<bool()>& keep_lease);
  KeyOutcome commentOnce(const std::string& key, const std::string& status, const sdk::Event& event,
                         sdk::Delivery& delivery);
  KeyOutcome fromFailure(const std::string& key, const JiraFailure& failure);

  std::string worker_;
  std::string projects_as_written_;  // "soc, devhop": the worker's projects, for reports
  JiraSettings settings_;
  std::unique_ptr<JiraClient> client_;
  std::unique_ptr<SmartCommits> smart_commits_;
  std::chrono::milliseconds lease_ttl_{0};
  std::chrono::milliseconds lease_wait_{0};
  // Fix versions from releases and links back to the code: per key, beside the move.
  std::unique_ptr<FixVersions> fix_versions_;
  std::unique_ptr<RemoteLinks> remote_links_;
};

}  // namespace conduit::jira
