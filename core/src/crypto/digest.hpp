#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace conduit::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest sha256(std::string_view data);
Sha256Digest hmacSha256(std::string_view key, std::string_view data);

// Compares two secrets in time that depends on neither's contents nor on where they differ.
// Both are hashed first, so their lengths leak nothing either.
bool secretsEqual(std::string_view a, std::string_view b);

// Compares two equal-sized digests in constant time (CRYPTO_memcmp).
bool digestsEqual(const Sha256Digest& a, const Sha256Digest& b);

// `n` bytes from OpenSSL's CSPRNG. Throws std::runtime_error if it cannot supply them.
std::string randomBytes(size_t n);

}  // namespace conduit::crypto
