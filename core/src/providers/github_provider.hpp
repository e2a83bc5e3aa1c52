#pragma once

#include "providers/provider.hpp"

namespace conduit::providers {

// GitHub (and GitHub Enterprise Server) webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256
// of the raw body>`, `X-GitHub-Event`, `X-GitHub-Delivery`; JSON or form-encoded bodies. The
// SHA-1 `X-Hub-Signature` is not accepted alone.
//
// Normalization:
// - pull_request: "pull_request.merged" for `closed` with `merged: true`, "pull_request.closed"
//   without it, "pull_request.<action>" otherwise; title, body, head and base branch, number,
//   page, and who merged (before a merge, who acted);
// - release: "release.<action>" (GitHub sends created, published and released for one
//   release); name, tag, body, publication time, page, author;
// - push: "tag" for refs/tags/..., else "push" with the branch (refs/heads/ dropped), each
//   commit (id, message, page, author), the compare page and the pusher;
// - anything else: "<event>.<action>", or "<event>" without an action, with no fields.
class GitHubProvider final : public Provider {
 public:
  std::string_view name() const override { return "github"; }
  std::string_view title() const override { return "GitHub"; }
  std::optional<std::string> repoPathProblem(std::string_view repo_path) const override;
  const HeaderNames& headerNames() const override;
  bool recognizes(const HeaderLookup& headers) const override;
  SignatureStatus authenticate(const HeaderLookup& headers, std::string_view body,
                               std::string_view secret) const override;
  std::optional<std::string_view> eventType(const HeaderLookup& headers) const override;
  std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const override;
  bool isPing(std::string_view event_type) const override { return event_type == "ping"; }
  bool acceptsFormBodies() const override { return true; }
  const std::vector<std::string_view>& knownEvents() const override;
  std::optional<Event> normalize(std::string_view event_type, std::string_view payload,
                                 std::string& error) const override;
};

}  // namespace conduit::providers
