#pragma once

#include "providers/provider.hpp"

namespace conduit::providers {

// GitLab (gitlab.com and self-managed) project and group webhooks: GitLab sends the hook's
// secret itself in `X-Gitlab-Token`, the event in `X-Gitlab-Event` ("Merge Request Hook"), and
// a delivery id in `Idempotency-Key` (GitLab 17.4 and later, kept across GitLab's own retries)
// or else `X-Gitlab-Webhook-UUID` (new for every attempt, so older GitLab's retries cannot be
// told apart). JSON bodies only; no ping: GitLab's "Test" button sends a real-looking event.
//
// Normalization:
// - Merge Request Hook: by `object_attributes.action` (`state` when there is none): merge ->
//   "pull_request.merged", open -> "pull_request.opened", close -> "pull_request.closed", any
//   other (reopen, update, approved, ...) "pull_request.<action>"; number (iid), "merge request
//   !<iid>", title, description, source and target branch, page, and the user who acted;
// - Push Hook: "push" with the branch (refs/heads/ dropped), each commit (id, message, page,
//   author's name; GitLab sends the last 20), the pusher, and as its page the compare page of
//   before...after, else the last commit's page, else the project's; a push of refs/tags/ is a
//   tag, as below;
// - Tag Push Hook: "tag" with the tag's name, its page (<project>/-/tags/<name>) and the
//   pusher; a deletion (`after` all zeros) is "tag.deleted", which triggers nothing;
// - Release Hook: create -> "release.published", update -> "release.updated", delete ->
//   "release.deleted"; name, tag, description, released_at, page, and the user if sent;
// - anything else: the event's name in lower case without " Hook" ("Note Hook" -> "note"),
//   with ".<object_attributes.action>" when there is one, and no fields.
class GitLabProvider final : public Provider {
 public:
  std::string_view name() const override { return "gitlab"; }
  std::string_view title() const override { return "GitLab"; }
  std::optional<std::string> repoPathProblem(std::string_view repo_path) const override;
  const HeaderNames& headerNames() const override;
  bool recognizes(const HeaderLookup& headers) const override;
  SignatureStatus authenticate(const HeaderLookup& headers, std::string_view body,
                               std::string_view secret) const override;
  std::optional<std::string_view> eventType(const HeaderLookup& headers) const override;
  std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const override;
  bool isPing(std::string_view /*event_type*/) const override { return false; }
  const std::vector<std::string_view>& knownEvents() const override;
  std::optional<Event> normalize(std::string_view event_type, std::string_view payload,
                                 std::string& error) const override;
};

}  // namespace conduit::providers
