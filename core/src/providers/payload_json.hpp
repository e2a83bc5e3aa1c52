#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace conduit::providers {

// A delivery's payload parsed for normalization, with the few typed reads every host's
// normalizer needs. Reads never throw: a member that is missing, null or of another type reads
// as empty, so a payload of an older or newer host version fills what it can.
class PayloadJson {
 public:
  // Parses `payload`. Parsed in place, in a copy: the strings stay where they are instead of
  // each being copied into the document, which halves the worker's CPU per delivery
  // (docs/BENCHMARKS.md). nullopt with `error` set when it is not a JSON object.
  static std::optional<PayloadJson> parse(std::string_view payload, std::string& error);

  PayloadJson(PayloadJson&&) noexcept = default;
  PayloadJson& operator=(PayloadJson&&) noexcept = default;

  const rapidjson::Value& root() const { return document_; }

  // The value at `pointer` (a JSON pointer, "/pull_request/head/ref") or nullptr.
  const rapidjson::Value* find(const char* pointer) const { return find(document_, pointer); }
  static const rapidjson::Value* find(const rapidjson::Value& from, const char* pointer);

  // The string at `pointer`; an integer's decimal digits ("12"); "" otherwise.
  std::string text(const char* pointer) const { return text(document_, pointer); }
  static std::string text(const rapidjson::Value& from, const char* pointer);

  // True only for the boolean true at `pointer`.
  bool flag(const char* pointer) const { return flag(document_, pointer); }
  static bool flag(const rapidjson::Value& from, const char* pointer);

  // The first non-empty text of `pointers`, "" if none: `firstText({"/a", "/b"})`.
  std::string firstText(std::initializer_list<const char*> pointers) const;
  static std::string firstText(const rapidjson::Value& from,
                               std::initializer_list<const char*> pointers);

 private:
  PayloadJson() = default;

  // The copy the document's strings point into: a vector, whose storage stays put when the
  // object is moved (a short std::string's would not).
  std::vector<char> buffer_;
  rapidjson::Document document_;
};

// `ref` without `prefix` when it starts with it ("refs/heads/main" -> "main"); nullopt when it
// does not.
std::optional<std::string> stripPrefix(std::string_view ref, std::string_view prefix);

}  // namespace conduit::providers
