#include "crypto/secret_box.hpp"

#include <doctest/doctest.h>

using conduit::crypto::SecretBox;

namespace {

std::array<uint8_t, 32> key(uint8_t fill) {
  std::array<uint8_t, 32> k{};
  k.fill(fill);
  return k;
}

}  // namespace

TEST_CASE("secret box: seal then open gives the secret back") {
  SecretBox box(key(1));
  auto sealed = box.seal("my-hook-secret", "github::repo");
  CHECK(sealed.key_id == box.keyId());
  CHECK(sealed.ciphertext.find("my-hook-secret") == std::string::npos);
  CHECK(box.open(sealed, "github::repo") == "my-hook-secret");
}

TEST_CASE("secret box: a fresh nonce each time - so equal secrets seal differently") {
  SecretBox box(key(1));
  CHECK(box.seal("same", "a").ciphertext != box.seal("same", "a").ciphertext);
}

TEST_CASE("secret box: another hook's associated data - another key - or a flipped bit fail") {
  SecretBox box(key(1));
  auto sealed = box.seal("secret", "github::repo");
  CHECK_FALSE(box.open(sealed, "github::other").has_value());

  SecretBox other(key(2));
  CHECK(other.keyId() != box.keyId());
  CHECK_FALSE(other.open(sealed, "github::repo").has_value());
  // Even when told the key id matches, the wrong key does not open it.
  CHECK_FALSE(other.open({other.keyId(), sealed.ciphertext}, "github::repo").has_value());

  auto tampered = sealed;
  tampered.ciphertext[20] = tampered.ciphertext[20] == 'A' ? 'B' : 'A';
  CHECK_FALSE(box.open(tampered, "github::repo").has_value());
}
