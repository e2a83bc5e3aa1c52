#include "providers/payload.hpp"

#include <cctype>

namespace conduit::providers {
namespace {

std::string lowerTrimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> urlDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int high = hexValue(in[i + 1]);
      int low = hexValue(in[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>((high << 4) | low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<BodyEncoding> bodyEncoding(std::string_view content_type) {
  std::string media = lowerTrimmed(content_type.substr(0, content_type.find(';')));
  if (media == "application/json") return BodyEncoding::kJson;
  if (media == "application/x-www-form-urlencoded") return BodyEncoding::kForm;
  return std::nullopt;
}

std::optional<std::string> formPayloadField(std::string_view body) {
  constexpr std::string_view kField = "payload=";
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view pair = body.substr(start, end - start);
    if (pair.substr(0, kField.size()) == kField) return urlDecode(pair.substr(kField.size()));
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace conduit::providers
