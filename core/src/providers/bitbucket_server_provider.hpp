#pragma once

#include "providers/provider.hpp"

namespace conduit::providers {

// Bitbucket Data Center (formerly Bitbucket Server) webhooks: `X-Hub-Signature:
// sha256=<hex HMAC-SHA256 of the raw body>` when the webhook has a secret, `X-Event-Key`
// (`pr:merged`, `repo:refs_changed`, ...), `X-Request-Id` for the delivery; JSON only. "Test
// connection" sends `diagnostics:ping`.
//
// Normalization:
// - pr:*: "pull_request.merged" for `pr:merged`, "pull_request.opened" for `pr:opened`,
//   "pull_request.closed" for `pr:declined`, "pull_request.<rest>" otherwise
//   ("pr:reviewer:approved" is "pull_request.reviewer_approved"); title, description, source
//   and target branch, id, page, the actor's user name, and PROJECT/repo of the target;
// - repo:refs_changed: "push" with the first branch changed, or "tag" when only tags changed.
//   The event carries no commit messages, so a push names no issue;
// - anything else: "<group>.<rest>" ("repo:comment:added" is "repo.comment_added").
class BitbucketServerProvider final : public Provider {
 public:
  std::string_view name() const override { return "bitbucket-server"; }
  std::string_view title() const override { return "Bitbucket Data Center"; }
  std::optional<std::string> repoPathProblem(std::string_view repo_path) const override;
  const HeaderNames& headerNames() const override;
  bool recognizes(const HeaderLookup& headers) const override;
  SignatureStatus authenticate(const HeaderLookup& headers, std::string_view body,
                               std::string_view secret) const override;
  std::optional<std::string_view> eventType(const HeaderLookup& headers) const override;
  std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const override;
  bool isPing(std::string_view event_type) const override {
    return event_type == "diagnostics:ping";
  }
  const std::vector<std::string_view>& knownEvents() const override;
  std::optional<Event> normalize(std::string_view event_type, std::string_view payload,
                                 std::string& error) const override;
};

}  // namespace conduit::providers
