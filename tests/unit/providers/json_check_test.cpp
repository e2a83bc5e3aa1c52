#include "providers/json_check.hpp"

#include <string>

#include <doctest/doctest.h>

#include "process.hpp"

using conduit::providers::isJsonObject;

TEST_CASE("json check: objects of every kind of value pass") {
  CHECK(isJsonObject("{}"));
  CHECK(isJsonObject(" \t\r\n{ } \n"));
  CHECK(isJsonObject(R"({"a":1,"b":-0.5e+10,"c":[true,false,null,"x",{}],"d":{"e":[]}})"));
  CHECK(isJsonObject(R"({"n":0,"m":-12.25E-3,"big":123456789012345678901234567890})"));
  CHECK(isJsonObject(R"({"esc":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"})"));
  CHECK(isJsonObject("{\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"));
  CHECK(isJsonObject(R"({"same":1,"same":2})"));  // duplicate names are JSON, if odd
}

TEST_CASE("json check: anything but one object is refused") {
  CHECK_FALSE(isJsonObject(""));
  CHECK_FALSE(isJsonObject("   "));
  CHECK_FALSE(isJsonObject("[1,2]"));
  CHECK_FALSE(isJsonObject("\"text\""));
  CHECK_FALSE(isJsonObject("42"));
  CHECK_FALSE(isJsonObject("{} {}"));
  CHECK_FALSE(isJsonObject("{\"a\":1} trailing"));
  CHECK_FALSE(isJsonObject(std::string("{}\0", 3)));
}

TEST_CASE("json check: syntax errors are refused") {
  for (const char* bad : {"{",
                          "{\"a\"}",
                          "{\"a\":}",
                          "{\"a\":1,}",
                          "{,}",
                          "{a:1}",
                          "{'a':1}",
                          "{\"a\":[1,]}",
                          "{\"a\":[1 2]}",
                          "{\"a\":tru}",
                          "{\"a\":nul}",
                          "{\"a\":01}",
                          "{\"a\":1.}",
                          "{\"a\":.5}",
                          "{\"a\":1e}",
                          "{\"a\":-}",
                          "{\"a\":+1}",
                          "{\"a\":\"x}",
                          "{\"a\":\"\\x\"}",
                          "{\"a\":\"\\u12\"}",
                          "{\"a\":\"\\u12G4\"}",
                          "{\"a\":NaN}",
                          "{\"a\":1}}"}) {
    CAPTURE(bad);
    CHECK_FALSE(isJsonObject(bad));
  }
}

TEST_CASE("json check: control characters and bad UTF-8 in strings are refused") {
  CHECK_FALSE(isJsonObject("{\"a\":\"line\nbreak\"}"));
  CHECK_FALSE(isJsonObject(std::string("{\"a\":\"nul\0\"}", 11)));
  CHECK_FALSE(isJsonObject("{\"a\":\"\xff\"}"));              // not a lead byte
  CHECK_FALSE(isJsonObject("{\"a\":\"\xc3\"}"));              // cut short
  CHECK_FALSE(isJsonObject("{\"a\":\"\xc0\xaf\"}"));          // overlong '/'
  CHECK_FALSE(isJsonObject("{\"a\":\"\xed\xa0\x80\"}"));      // a UTF-16 surrogate
  CHECK_FALSE(isJsonObject("{\"a\":\"\xf4\x90\x80\x80\"}"));  // past U+10FFFF
}

TEST_CASE("json check: the word-at-a-time scan sees specials at every offset") {
  for (size_t offset = 0; offset < 20; ++offset) {
    std::string padding(offset, 'x');
    CHECK(isJsonObject("{\"a\":\"" + padding + "\\n" + padding + "\"}"));
    CHECK_FALSE(isJsonObject("{\"a\":\"" + padding + "\x01" + padding + "\"}"));
    CHECK(isJsonObject("{\"a\":\"" + padding + "\xc3\xa9" + padding + "\"}"));
    CHECK_FALSE(isJsonObject("{\"a\":\"" + padding + "\xc3" + padding + "\"}"));
    CHECK(isJsonObject("{\"" + padding + "\":\"" + padding + "\"}"));
  }
}

TEST_CASE("json check: nesting is limited to 512 levels") {
  auto nested = [](int depth) {
    return std::string(static_cast<size_t>(depth - 1), '[').insert(0, "{\"a\":") +
           std::string(static_cast<size_t>(depth - 1), ']') + "}";
  };
  CHECK(isJsonObject(nested(512)));
  CHECK_FALSE(isJsonObject(nested(513)));
  CHECK_FALSE(isJsonObject("{\"a\":" + std::string(100000, '[')));  // no stack overflow
}

TEST_CASE("json check: the sample pull request payload passes") {
  const std::string text =
      conduit::testing::readFile(CONDUIT_EXAMPLES_DIR "/payloads/pull_request.closed.json");
  REQUIRE(text.size() > 30000);
  CHECK(isJsonObject(text));
}

TEST_CASE("json check: escaped surrogates come in pairs - high then low") {
  CHECK(isJsonObject(R"({"a":"\ud83d\ude00"})"));  // U+1F600 as its pair
  CHECK(isJsonObject(R"({"a":"\u00e9\uFFFF"})"));
  CHECK_FALSE(isJsonObject(R"({"a":"\ud800"})"));  // a lone high surrogate
  CHECK_FALSE(isJsonObject(R"({"a":"\ud800x"})"));
  CHECK_FALSE(isJsonObject(R"({"a":"\ud800\u0041"})"));  // high, then not a low one
  CHECK_FALSE(isJsonObject(R"({"a":"\udc00\ud800"})"));  // low first
}
