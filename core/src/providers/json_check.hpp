#pragma once

#include <string_view>

namespace conduit::providers {

// True when `text` is exactly one JSON object (RFC 8259), optionally surrounded by whitespace,
// in valid UTF-8, nested at most 512 deep.
//
// This is a validator, not a parser: it builds nothing and copies nothing. It sits on the
// delivery hot path, where a full parse of a 30 KB pull request payload would cost more than
// everything else Conduit does with it; workers parse the payload properly later.
bool isJsonObject(std::string_view text);

}  // namespace conduit::providers
