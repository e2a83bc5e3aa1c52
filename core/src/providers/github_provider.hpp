#pragma once

#include "providers/provider.hpp"

namespace conduit::providers {

// GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`,
// `X-GitHub-Event`, `X-GitHub-Delivery`. The SHA-1 `X-Hub-Signature` is not accepted alone.
class GitHubProvider final : public Provider {
 public:
  std::string_view name() const override { return "github"; }
  SignatureStatus verifySignature(const HeaderLookup& headers, std::string_view body,
                                  std::string_view secret) const override;
  std::optional<std::string_view> eventType(const HeaderLookup& headers) const override;
  std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const override;
  bool isPing(std::string_view event_type) const override { return event_type == "ping"; }
};

}  // namespace conduit::providers
