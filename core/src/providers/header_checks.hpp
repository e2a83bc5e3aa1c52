#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>

#include "providers/provider.hpp"

namespace conduit::providers {

// The building blocks the providers share: most hosts sign with a hex HMAC-SHA256, some send
// the secret itself, some send a header under two names.

// The value of the first of `names` that the request carries with a non-empty value.
std::optional<std::string_view> firstHeader(const HeaderLookup& headers,
                                            std::initializer_list<std::string_view> names);

// Checks `header` as `<prefix><64 hex digits>`, the HMAC-SHA256 of `body` keyed by `secret`,
// in constant time: kMissing for no (or an empty) header, kMalformed for another form.
// Upper-case hex is accepted.
SignatureStatus checkHexHmacSha256(std::optional<std::string_view> header, std::string_view prefix,
                                   std::string_view body, std::string_view secret);

// Checks `header` as the secret itself (GitLab's X-Gitlab-Token), in constant time: kMissing
// for no (or an empty) header; never kMalformed.
SignatureStatus checkToken(std::optional<std::string_view> header, std::string_view secret);

}  // namespace conduit::providers
