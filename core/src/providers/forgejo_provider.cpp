#include "providers/forgejo_provider.hpp"

#include "providers/header_checks.hpp"

namespace conduit::providers {

const HeaderNames& ForgejoProvider::headerNames() const {
  static const HeaderNames names{
      "X-Forgejo-Signature (or X-Gitea-Signature)", "64 hex characters (no prefix)",
      "X-Forgejo-Event (or X-Gitea-Event)", "X-Forgejo-Delivery (or X-Gitea-Delivery)"};
  return names;
}

bool ForgejoProvider::recognizes(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Forgejo-Event", "X-Gitea-Event"}).has_value();
}

SignatureStatus ForgejoProvider::authenticate(const HeaderLookup& headers, std::string_view body,
                                              std::string_view secret) const {
  return checkSignature(firstHeader(headers, {"X-Forgejo-Signature", "X-Gitea-Signature"}), headers,
                        body, secret);
}

std::optional<std::string_view> ForgejoProvider::eventType(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Forgejo-Event", "X-Gitea-Event"});
}

std::optional<std::string_view> ForgejoProvider::deliveryId(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Forgejo-Delivery", "X-Gitea-Delivery"});
}

const std::vector<std::string_view>& ForgejoProvider::knownEvents() const {
  // Gitea's values as of the fork, and Forgejo's own notifications of Actions runs.
  static const std::vector<std::string_view> events = {"action_run_failure",
                                                       "action_run_recover",
                                                       "action_run_success",
                                                       "create",
                                                       "delete",
                                                       "fork",
                                                       "issue_comment",
                                                       "issues",
                                                       "package",
                                                       "pull_request",
                                                       "pull_request_approved",
                                                       "pull_request_comment",
                                                       "pull_request_rejected",
                                                       "push",
                                                       "release",
                                                       "repository",
                                                       "wiki",
                                                       "workflow_job"};
  return events;
}

}  // namespace conduit::providers
