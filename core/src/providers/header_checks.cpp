#include "providers/header_checks.hpp"

#include <algorithm>

#include "crypto/digest.hpp"
#include "crypto/hex.hpp"

namespace conduit::providers {

std::optional<std::string_view> firstHeader(const HeaderLookup& headers,
                                            std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    auto value = headers(name);
    if (value && !value->empty()) return value;
  }
  return std::nullopt;
}

SignatureStatus checkHexHmacSha256(std::optional<std::string_view> header, std::string_view prefix,
                                   std::string_view body, std::string_view secret) {
  if (!header || header->empty()) return SignatureStatus::kMissing;
  std::string_view value = *header;
  if (value.substr(0, prefix.size()) != prefix) return SignatureStatus::kMalformed;
  auto claimed = crypto::fromHex(value.substr(prefix.size()));
  if (!claimed || claimed->size() != crypto::Sha256Digest{}.size()) {
    return SignatureStatus::kMalformed;
  }
  crypto::Sha256Digest claimed_digest{};
  std::copy(claimed->begin(), claimed->end(), claimed_digest.begin());
  return crypto::digestsEqual(crypto::hmacSha256(secret, body), claimed_digest)
             ? SignatureStatus::kValid
             : SignatureStatus::kMismatch;
}

SignatureStatus checkToken(std::optional<std::string_view> header, std::string_view secret) {
  if (!header || header->empty()) return SignatureStatus::kMissing;
  return crypto::secretsEqual(*header, secret) ? SignatureStatus::kValid
                                               : SignatureStatus::kMismatch;
}

}  // namespace conduit::providers
