#pragma once

#include "providers/provider.hpp"

namespace conduit::providers {

// What Gitea and Forgejo share: Forgejo is a fork of Gitea and still sends Gitea's payloads,
// signed the same way; only its header names differ. Each host is a class below this one
// (GiteaProvider here, ForgejoProvider in forgejo_provider.hpp) that says which headers it
// reads.
//
// Authentication: the hex HMAC-SHA256 of the body keyed by the hook's secret, no prefix. Gitea
// signs the JSON even when its hook is set to send `application/x-www-form-urlencoded`, so a
// form body is checked against the JSON in its `payload` field too: such a delivery is then
// refused 415 (choose application/json), not 401 as if the secret were wrong.
//
// Normalization (payloads as the hosts' webhook services write them):
// - pull_request: "pull_request.merged" for `closed` with `pull_request.merged: true`,
//   "pull_request.closed" without it, "pull_request.<action>" otherwise (`opened`,
//   `synchronized`, `edited`, ...); number, title, body, head and base branch, page, and who
//   merged (before a merge, who acted);
// - release: "release.<action>" (`published` when a release is made, not for a draft;
//   `updated`, `deleted`); name, tag, body, publication time, page, author;
// - push of refs/tags/...: "tag" with the tag and the page of the tree at that tag, or
//   "tag.deleted" when the tag was deleted (`after` all zeros). Gitea also sends a `create`
//   event (ref_type tag) for a new tag: that one stays "create", so that one tag is one "tag";
// - push of a branch: "push" with the branch, each commit (id, message, page, author's name,
//   else username; oldest first, where Gitea lists the newest first), the compare page and the
//   pusher; "push.deleted" for a deleted branch, and
//   "push.test" for the settings page's "Test delivery" (which Gitea sends as a push whose
//   `before` equals its `after`, carrying the default branch's last commit in older versions):
//   a test must not move the issues that commit names;
// - anything else: "<event>.<action>", or "<event>" without an action, with no fields
//   (`pull_request_approved.reviewed`, `issue_comment.created`, `create`).
class GiteaFamilyProvider : public Provider {
 public:
  std::optional<std::string> repoPathProblem(std::string_view repo_path) const override;
  bool isPing(std::string_view /*event_type*/) const override { return false; }
  std::optional<Event> normalize(std::string_view event_type, std::string_view payload,
                                 std::string& error) const override;

 protected:
  // Checks `signature` (the host's signature header) against `body`, or against the JSON in a
  // form body's `payload` field, which is what Gitea signs when it sends a form.
  static SignatureStatus checkSignature(std::optional<std::string_view> signature,
                                        const HeaderLookup& headers, std::string_view body,
                                        std::string_view secret);
};

// Gitea: `X-Gitea-Signature` (hex HMAC-SHA256 of the raw body, no prefix), `X-Gitea-Event`,
// `X-Gitea-Delivery`. It also sends copies under Gogs' and GitHub's names, which are not read.
// A delivery carrying `X-Forgejo-Event` is Forgejo's, not Gitea's.
class GiteaProvider final : public GiteaFamilyProvider {
 public:
  std::string_view name() const override { return "gitea"; }
  std::string_view title() const override { return "Gitea"; }
  const HeaderNames& headerNames() const override;
  bool recognizes(const HeaderLookup& headers) const override;
  SignatureStatus authenticate(const HeaderLookup& headers, std::string_view body,
                               std::string_view secret) const override;
  std::optional<std::string_view> eventType(const HeaderLookup& headers) const override;
  std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const override;
  const std::vector<std::string_view>& knownEvents() const override;
};

}  // namespace conduit::providers
