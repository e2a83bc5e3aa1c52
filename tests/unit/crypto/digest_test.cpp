#include "crypto/digest.hpp"

#include <doctest/doctest.h>

#include "crypto/hex.hpp"

using namespace conduit::crypto;

TEST_CASE("HMAC-SHA256: GitHub's published test vector") {
  auto mac = hmacSha256("It's a Secret to Everybody", "Hello, World!");
  CHECK(toHex(mac) == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST_CASE("secretsEqual compares contents of any length") {
  CHECK(secretsEqual("token-1234567890", "token-1234567890"));
  CHECK_FALSE(secretsEqual("token-1234567890", "token-1234567891"));
  CHECK_FALSE(secretsEqual("token", "token-1234567890"));
  CHECK_FALSE(secretsEqual("", "x"));
}

TEST_CASE("hex and base64 round trips - malformed input is refused") {
  CHECK(fromHex("00ff10") == std::vector<uint8_t>{0x00, 0xff, 0x10});
  CHECK(fromHex("ABcd") == std::vector<uint8_t>{0xab, 0xcd});
  CHECK_FALSE(fromHex("abc").has_value());
  CHECK_FALSE(fromHex("zz").has_value());
  const std::string text = "conduit";
  auto encoded = toBase64(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  CHECK(encoded == "Y29uZHVpdA==");
  auto decoded = fromBase64(encoded);
  REQUIRE(decoded);
  CHECK(std::string(decoded->begin(), decoded->end()) == text);
  CHECK_FALSE(fromBase64("not base64!").has_value());
}

TEST_CASE("randomBytes gives the size asked for - and differs each time") {
  auto a = randomBytes(32);
  auto b = randomBytes(32);
  CHECK(a.size() == 32);
  CHECK(a != b);
}
