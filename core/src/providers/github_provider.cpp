#include "providers/github_provider.hpp"

#include <algorithm>

#include "crypto/digest.hpp"
#include "crypto/hex.hpp"

namespace conduit::providers {
namespace {

constexpr std::string_view kSignaturePrefix = "sha256=";

std::optional<std::string_view> nonEmpty(std::optional<std::string_view> value) {
  if (value && value->empty()) return std::nullopt;
  return value;
}

}  // namespace

SignatureStatus GitHubProvider::verifySignature(const HeaderLookup& headers, std::string_view body,
                                                std::string_view secret) const {
  auto header = headers("X-Hub-Signature-256");
  if (!header || header->empty()) return SignatureStatus::kMissing;

  std::string_view value = *header;
  if (value.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
    return SignatureStatus::kMalformed;
  }
  auto claimed = crypto::fromHex(value.substr(kSignaturePrefix.size()));
  if (!claimed || claimed->size() != crypto::Sha256Digest{}.size()) {
    return SignatureStatus::kMalformed;
  }
  crypto::Sha256Digest claimed_digest{};
  std::copy(claimed->begin(), claimed->end(), claimed_digest.begin());

  auto expected = crypto::hmacSha256(secret, body);
  return crypto::digestsEqual(expected, claimed_digest) ? SignatureStatus::kValid
                                                        : SignatureStatus::kMismatch;
}

std::optional<std::string_view> GitHubProvider::eventType(const HeaderLookup& headers) const {
  return nonEmpty(headers("X-GitHub-Event"));
}

std::optional<std::string_view> GitHubProvider::deliveryId(const HeaderLookup& headers) const {
  return nonEmpty(headers("X-GitHub-Delivery"));
}

const Provider* findProvider(std::string_view name) {
  static const GitHubProvider github;
  if (name == github.name()) return &github;
  return nullptr;
}

std::vector<std::string_view> providerNames() {
  return {"github"};
}

}  // namespace conduit::providers
