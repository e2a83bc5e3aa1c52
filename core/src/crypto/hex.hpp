#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace conduit::crypto {

// Lower-case hex, two characters a byte.
std::string toHex(const uint8_t* data, size_t size);

template <typename Bytes>
std::string toHex(const Bytes& bytes) {
  return toHex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// Decodes hex of either case; nullopt for an odd length or a non-hex character.
std::optional<std::vector<uint8_t>> fromHex(std::string_view hex);

// Standard base64 with padding, as stored in Redis.
std::string toBase64(const uint8_t* data, size_t size);
std::optional<std::vector<uint8_t>> fromBase64(std::string_view text);

}  // namespace conduit::crypto
