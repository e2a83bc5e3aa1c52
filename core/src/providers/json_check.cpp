#include "providers/json_check.hpp"

#include <cctype>
#include <cstdint>
#include <cstring>

namespace conduit::providers {
namespace {

constexpr int kMaxDepth = 512;

class JsonCheck {
 public:
  explicit JsonCheck(std::string_view text)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()) {}

  bool wholeObject() {
    skipWhitespace();
    if (p_ == end_ || *p_ != '{') return false;
    if (!value(0)) return false;
    skipWhitespace();
    return p_ == end_;
  }

 private:
  void skipWhitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
      ++p_;
  }

  bool value(int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  bool object(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '{'
    skipWhitespace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      skipWhitespace();
      if (p_ == end_ || *p_ != '"' || !string()) return false;
      skipWhitespace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skipWhitespace();
      if (!value(depth)) return false;
      skipWhitespace();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  bool array(int depth) {
    if (depth > kMaxDepth) return false;
    ++p_;  // '['
    skipWhitespace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      skipWhitespace();
      if (!value(depth)) return false;
      skipWhitespace();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  bool literal(const char* word) {
    const size_t size = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < size || std::memcmp(p_, word, size) != 0) return false;
    p_ += size;
    return true;
  }

  bool digits() {
    const unsigned char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9')
      ++p_;
    return p_ != start;
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool number() {
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }

  // True when none of the 8 bytes is '"', '\\', a control character or non-ASCII: the common
  // case inside a string, checked a word at a time.
  static bool plainWord(uint64_t word) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHighs = 0x8080808080808080ULL;
    auto hasZeroByte = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
    const uint64_t quote = hasZeroByte(word ^ (kOnes * '"'));
    const uint64_t backslash = hasZeroByte(word ^ (kOnes * '\\'));
    const uint64_t control = (word - kOnes * 0x20) & ~word & kHighs;  // a byte < 0x20
    const uint64_t non_ascii = word & kHighs;
    return (quote | backslash | control | non_ascii) == 0;
  }

  bool string() {
    ++p_;  // '"'
    while (true) {
      while (end_ - p_ >= 8) {
        uint64_t word;
        std::memcpy(&word, p_, sizeof word);
        if (!plainWord(word)) break;
        p_ += 8;
      }
      if (p_ == end_) return false;
      const unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!escape()) return false;
      } else if (c < 0x20) {
        return false;
      } else if (c < 0x80) {
        ++p_;
      } else if (!utf8Sequence()) {
        return false;
      }
    }
  }

  bool escape() {
    ++p_;  // '\\'
    if (p_ == end_) return false;
    switch (*p_++) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        return true;
      case 'u': {
        // A UTF-16 code unit. A surrogate must come as a pair, high then low: a lone one is
        // no character, and the worker's parser would refuse what this had let through.
        const int unit = hexUnit();
        if (unit < 0xD800 || unit > 0xDFFF) return unit >= 0;
        if (unit > 0xDBFF) return false;  // a low surrogate first
        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
        p_ += 2;
        const int low = hexUnit();
        return low >= 0xDC00 && low <= 0xDFFF;
      }
      default:
        return false;
    }
  }

  // Four hex digits as a number, or -1.
  int hexUnit() {
    int unit = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      if (p_ == end_ || !std::isxdigit(*p_)) return -1;
      const char c = static_cast<char>(std::tolower(*p_));
      unit = unit * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return unit;
  }

  // One multi-byte UTF-8 sequence: no overlong forms, no surrogates, nothing past U+10FFFF.
  bool utf8Sequence() {
    const unsigned char lead = *p_;
    size_t size;
    uint32_t code_point;
    if ((lead & 0xE0) == 0xC0) {
      size = 2;
      code_point = lead & 0x1Fu;
    } else if ((lead & 0xF0) == 0xE0) {
      size = 3;
      code_point = lead & 0x0Fu;
    } else if ((lead & 0xF8) == 0xF0) {
      size = 4;
      code_point = lead & 0x07u;
    } else {
      return false;
    }
    if (static_cast<size_t>(end_ - p_) < size) return false;
    for (size_t i = 1; i < size; ++i) {
      if ((p_[i] & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (p_[i] & 0x3Fu);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[size] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    p_ += size;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
};

}  // namespace

bool isJsonObject(std::string_view text) {
  return JsonCheck(text).wholeObject();
}

}  // namespace conduit::providers
