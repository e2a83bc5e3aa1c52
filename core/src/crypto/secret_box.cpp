#include "crypto/secret_box.hpp"

#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>

#include "crypto/digest.hpp"
#include "crypto/hex.hpp"

namespace conduit::crypto {
namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext newContext() {
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  return ctx;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

SecretBox::SecretBox(const std::array<uint8_t, 32>& key) : key_(key) {
  auto mac = hmacSha256(std::string_view(reinterpret_cast<const char*>(key_.data()), key_.size()),
                        "conduit key id");
  key_id_ = toHex(mac.data(), 8);
}

SealedSecret SecretBox::seal(std::string_view plaintext, std::string_view associated_data) const {
  std::string nonce = randomBytes(kNonceBytes);
  std::vector<uint8_t> out(kNonceBytes + plaintext.size() + kTagBytes);
  std::copy(nonce.begin(), nonce.end(), out.begin());

  auto ctx = newContext();
  int len = 0;
  bool ok =
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), out.data() + kNonceBytes, &len, bytes(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), out.data() + kNonceBytes + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          out.data() + kNonceBytes + plaintext.size()) == 1;
  if (!ok) throw std::runtime_error("AES-256-GCM encryption failed");
  return SealedSecret{key_id_, toBase64(out.data(), out.size())};
}

std::optional<std::string> SecretBox::open(const SealedSecret& sealed,
                                           std::string_view associated_data) const {
  if (sealed.key_id != key_id_) return std::nullopt;
  auto raw = fromBase64(sealed.ciphertext);
  if (!raw || raw->size() < kNonceBytes + kTagBytes) return std::nullopt;

  const size_t text_size = raw->size() - kNonceBytes - kTagBytes;
  std::string plaintext(text_size, '\0');
  auto ctx = newContext();
  int len = 0;
  uint8_t* tag = raw->data() + kNonceBytes + text_size;
  bool ok =
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), raw->data()) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plaintext.data()), &len,
                        raw->data() + kNonceBytes, static_cast<int>(text_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plaintext.data()) + len,
                          &len) == 1;
  if (!ok) return std::nullopt;
  return plaintext;
}

}  // namespace conduit::crypto
