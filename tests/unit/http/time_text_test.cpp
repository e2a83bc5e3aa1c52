#include "http/time_text.hpp"

#include <doctest/doctest.h>

using conduit::http::formatRfc3339;
using conduit::http::parseTime;

TEST_CASE("time text: Unix milliseconds are taken as they are") {
  CHECK(parseTime("0") == 0);
  CHECK(parseTime("1796479323123") == 1796479323123);
  CHECK_FALSE(parseTime("-5"));
  CHECK_FALSE(parseTime("12a"));
  CHECK_FALSE(parseTime("9999999999999999999999"));
  CHECK_FALSE(parseTime(""));
}

TEST_CASE("time text: RFC 3339 in UTC and with offsets") {
  CHECK(parseTime("1970-01-01T00:00:00Z") == 0);
  CHECK(parseTime("2026-12-05T14:02:03.123Z") == 1796479323123);
  CHECK(parseTime("2026-12-05T14:02:03Z") == 1796479323000);
  CHECK(parseTime("2026-12-05 14:02:03z") == 1796479323000);
  CHECK(parseTime("2026-12-05T15:02:03.1+01:00") == 1796479323100);
  CHECK(parseTime("2026-12-05T09:32:03.123456-04:30") == 1796479323123);
  CHECK(parseTime("2024-02-29T00:00:00Z").has_value());
}

TEST_CASE("time text: what is not a time is refused") {
  CHECK_FALSE(parseTime("2026-12-05T14:02:03"));  // no offset
  CHECK_FALSE(parseTime("2026-12-05"));
  CHECK_FALSE(parseTime("2025-02-29T00:00:00Z"));  // not a leap year
  CHECK_FALSE(parseTime("2026-13-01T00:00:00Z"));
  CHECK_FALSE(parseTime("2026-12-05T24:00:00Z"));
  CHECK_FALSE(parseTime("2026-12-05T14:02:03.Z"));
  CHECK_FALSE(parseTime("2026-12-05T14:02:03Z trailing"));
  CHECK_FALSE(parseTime("yesterday"));
}

TEST_CASE("time text: written in UTC with milliseconds, and read back") {
  CHECK(formatRfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(formatRfc3339(1796479323123) == "2026-12-05T14:02:03.123Z");
  CHECK(parseTime(formatRfc3339(1796479323007)) == 1796479323007);
}
