#pragma once

#include <memory>
#include <optional>
#include <string>

#include <conduit/sdk.hpp>

#include "jira_client.hpp"
#include "jira_settings.hpp"

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

  KeyOutcome moveIssue(const std::string& key, const std::string& machine_event,
                       const sdk::Event& event, sdk::Delivery& delivery);
  KeyOutcome commentOnce(const std::string& key, const std::string& status, const sdk::Event& event,
                         sdk::Delivery& delivery);
  KeyOutcome fromFailure(const std::string& key, const JiraFailure& failure);

  std::string worker_;
  JiraSettings settings_;
  std::unique_ptr<JiraClient> client_;
};

}  // namespace conduit::jira
