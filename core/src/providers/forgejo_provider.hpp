#pragma once

#include "providers/gitea_provider.hpp"

namespace conduit::providers {

// Forgejo: `X-Forgejo-Signature`, `X-Forgejo-Event`, `X-Forgejo-Delivery`, each else its Gitea
// name: Forgejo sends both, older Forgejo only Gitea's, so a Forgejo hook accepts a delivery
// that carries only Gitea's headers. Payloads, signature and normalization are Gitea's
// (GiteaFamilyProvider).
class ForgejoProvider final : public GiteaFamilyProvider {
 public:
  std::string_view name() const override { return "forgejo"; }
  std::string_view title() const override { return "Forgejo"; }
  const HeaderNames& headerNames() const override;
  bool recognizes(const HeaderLookup& headers) const override;
  SignatureStatus authenticate(const HeaderLookup& headers, std::string_view body,
                               std::string_view secret) const override;
  std::optional<std::string_view> eventType(const HeaderLookup& headers) const override;
  std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const override;
  const std::vector<std::string_view>& knownEvents() const override;
};

}  // namespace conduit::providers
