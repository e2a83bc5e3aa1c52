#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Times as the admin API and the commands write and read them: RFC 3339 or Unix milliseconds.
namespace conduit::http {

// `2026-12-05T14:02:03.123Z`: UTC, always with milliseconds.
std::string formatRfc3339(int64_t unix_ms);

// A time given as RFC 3339 (`2026-12-05T14:02:03Z`, with or without fractional seconds, `Z` or
// an offset such as `+01:00`; a space instead of `T` is accepted) or as Unix milliseconds
// (`1764943323123`). nullopt for anything else, including dates that do not exist.
std::optional<int64_t> parseTime(std::string_view text);

}  // namespace conduit::http
