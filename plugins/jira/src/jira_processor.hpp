#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <conduit/sdk.hpp>

#include "jira_client.hpp"
#include "jira_settings.hpp"
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
  // How one issue key of the event went.
  struct KeyOutcome {
    enum class Kind { kDone, kFailed, kRetry, kCredentialsRefused };
    Kind kind = Kind::kDone;
    std::string message;
    std::chrono::milliseconds retry_after{0};
  };

  // Whether a transition whose answer was lost was applied.
  enum class Applied { kYes, kNo, kUnknown };

  // The state machine's part of process(): moves the issues a trigger names. `acted`: something
  // else (smart commits) was done for the event, which is then not reported as ignored.
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
};

}  // namespace conduit::jira
