#pragma once

#include "providers/provider.hpp"

namespace conduit::providers {

// Bitbucket Cloud (bitbucket.org) webhooks: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw
// body>` (Bitbucket sends it only for a webhook with a secret: the docs say to set one),
// `X-Event-Key` (`pullrequest:fulfilled`, `repo:push`, ...), `X-Request-UUID` for the delivery,
// `X-Hook-UUID` for the webhook; JSON only.
//
// Normalization:
// - pullrequest:*: "pull_request.merged" for `fulfilled`, "pull_request.opened" for `created`,
//   "pull_request.closed" for `rejected` (declined), "pull_request.<rest>" otherwise; title,
//   description, source and destination branch, id, page, and the actor (who merged, declined
//   or acted);
// - repo:push: "push" with the first branch changed and the commits of every branch change,
//   oldest first (Bitbucket lists them newest first, and at most 5 per change: `truncated`
//   says when there were more); "tag" when the push changed only tags;
// - anything else: "<group>.<rest>" ("repo:fork" is "repo.fork") with the repository only.
class BitbucketProvider final : public Provider {
 public:
  std::string_view name() const override { return "bitbucket"; }
  std::string_view title() const override { return "Bitbucket Cloud"; }
  std::optional<std::string> repoPathProblem(std::string_view repo_path) const override;
  const HeaderNames& headerNames() const override;
  bool recognizes(const HeaderLookup& headers) const override;
  SignatureStatus authenticate(const HeaderLookup& headers, std::string_view body,
                               std::string_view secret) const override;
  std::optional<std::string_view> eventType(const HeaderLookup& headers) const override;
  std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const override;
  // Bitbucket Cloud sends no test or handshake request.
  bool isPing(std::string_view) const override { return false; }
  const std::vector<std::string_view>& knownEvents() const override;
  std::optional<Event> normalize(std::string_view event_type, std::string_view payload,
                                 std::string& error) const override;
};

}  // namespace conduit::providers
