#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace conduit::crypto {

// A secret sealed for storage: what goes into Redis beside the hook.
struct SealedSecret {
  std::string key_id;      // which key sealed it, so keys can be rotated later
  std::string ciphertext;  // base64 of nonce (12 bytes) | ciphertext | GCM tag (16 bytes)
};

// Seals hook secrets at rest with AES-256-GCM (OpenSSL EVP). Each seal draws a fresh random
// nonce; the associated data binds a ciphertext to its hook, so a ciphertext copied onto
// another hook does not open.
class SecretBox {
 public:
  explicit SecretBox(const std::array<uint8_t, 32>& key);

  SealedSecret seal(std::string_view plaintext, std::string_view associated_data) const;

  // nullopt when the key id is not this box's, or the ciphertext or its binding was altered.
  std::optional<std::string> open(const SealedSecret& sealed,
                                  std::string_view associated_data) const;

  // A short public name for the key: the first 8 bytes of HMAC-SHA256(key, "conduit key id"),
  // in hex. It says which key sealed a secret without saying anything about the key.
  const std::string& keyId() const { return key_id_; }

 private:
  std::array<uint8_t, 32> key_;
  std::string key_id_;
};

}  // namespace conduit::crypto
