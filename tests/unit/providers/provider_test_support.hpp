#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include "process.hpp"
#include "providers/registry.hpp"

namespace conduit::testing {

// Headers as a request carries them: names matched without regard to case. The views it
// answers point into `values`, which must outlive them.
inline providers::HeaderLookup headersIn(const std::map<std::string, std::string>& values) {
  return [&values](std::string_view name) -> std::optional<std::string_view> {
    for (const auto& [key, value] : values) {
      if (key.size() == name.size() &&
          std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return std::string_view(value);
      }
    }
    return std::nullopt;
  };
}

// The same over a copy the lookup owns: its views live as long as the lookup (keep it in a
// variable while they are used).
inline providers::HeaderLookup headers(std::map<std::string, std::string> values) {
  auto owned = std::make_shared<const std::map<std::string, std::string>>(std::move(values));
  return [owned, lookup = headersIn(*owned)](std::string_view name) { return lookup(name); };
}

// One of the real requests in tests/data/payloads/<host>/: NAME.json's bytes as the host sent
// them, and NAME.headers.json's headers.
// The secret the recorded requests' signatures and tokens were made with.
inline constexpr std::string_view kRecordedSecret = "71295b197fa25f4356d2fb9965df3f2379d903d7";

struct RecordedRequest {
  std::string body;
  std::map<std::string, std::string> header_values;
  // Views into this request's own headers: valid as long as the request.
  providers::HeaderLookup lookup() const { return headersIn(header_values); }
};

inline RecordedRequest recordedRequest(const std::string& host_and_name) {
  const std::string base = std::string(CONDUIT_TEST_DATA_DIR) + "/payloads/" + host_and_name;
  RecordedRequest request{readFile(base + ".json"), {}};
  rapidjson::Document document;
  const std::string headers_json = readFile(base + ".headers.json");
  document.Parse(headers_json.data(), headers_json.size());
  REQUIRE_MESSAGE(document.IsObject(), base, ".headers.json is not a JSON object");
  REQUIRE(document.HasMember("headers"));
  for (const auto& member : document["headers"].GetObject()) {
    if (member.value.IsString()) {
      request.header_values[member.name.GetString()] = member.value.GetString();
    }
  }
  return request;
}

// The provider `name`, which must be in the registry.
inline const providers::Provider& provider(std::string_view name) {
  const providers::Provider* found = providers::findProvider(name);
  REQUIRE_MESSAGE(found != nullptr, "no provider ", std::string(name));
  return *found;
}

// The Event of a request, which must normalize.
inline providers::Event normalized(std::string_view provider_name, std::string_view event_type,
                                   std::string_view payload) {
  std::string error;
  auto event = providers::normalize(provider(provider_name), event_type, payload, error);
  REQUIRE_MESSAGE(event.has_value(), error);
  return *event;
}

}  // namespace conduit::testing
