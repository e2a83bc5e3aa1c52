#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace conduit::providers {

// How a delivery's body carries its JSON. GitHub sends `application/json`, or (the default
// for hooks made through its API) `application/x-www-form-urlencoded` with a `payload=` field.
enum class BodyEncoding { kJson, kForm };

// The encoding named by a Content-Type header (parameters such as `charset` ignored), or
// nullopt for any other media type.
std::optional<BodyEncoding> bodyEncoding(std::string_view content_type);

// The URL-decoded value of the `payload` field of a form body, or nullopt when there is none
// or it is not validly percent-encoded.
std::optional<std::string> formPayloadField(std::string_view body);

}  // namespace conduit::providers
