// What the administration commands print for people: columns that line up, times as a person
// reads them, colour that never shifts a column.
#include "app/table_output.hpp"

#include <doctest/doctest.h>

using conduit::app::Colour;
using conduit::app::paint;
using conduit::app::relativeTime;
using conduit::app::Table;

namespace {
constexpr int64_t kNowMs = 1796479323123;  // 2026-12-05T14:02:03.123Z
constexpr int64_t kSecondMs = 1000;
}  // namespace

TEST_CASE("table output: relative times - seconds, minutes, hours, days, then the date") {
  CHECK(relativeTime(kNowMs, kNowMs) == "just now");
  CHECK(relativeTime(kNowMs - 4 * kSecondMs, kNowMs) == "just now");
  CHECK(relativeTime(kNowMs - 42 * kSecondMs, kNowMs) == "42 s ago");
  CHECK(relativeTime(kNowMs - 3 * 60 * kSecondMs - 10 * kSecondMs, kNowMs) == "3 min ago");
  CHECK(relativeTime(kNowMs - 5 * 3600 * kSecondMs, kNowMs) == "5 h ago");
  CHECK(relativeTime(kNowMs - 47 * 3600 * kSecondMs, kNowMs) == "47 h ago");
  CHECK(relativeTime(kNowMs - 3 * 86400 * kSecondMs, kNowMs) == "3 days ago");
  CHECK(relativeTime(kNowMs - 40 * 86400 * kSecondMs, kNowMs) == "2026-10-26");
  // A retry that is due later.
  CHECK(relativeTime(kNowMs + 4 * 60 * kSecondMs, kNowMs) == "in 4 min");
  CHECK(relativeTime(0, kNowMs) == "-");
}

TEST_CASE("table output: columns as wide as their widest cell - UTF-8 and colour not counted") {
  Table table({"STATUS", "REPO", "ID"});
  table.addRow({{"done", Colour::kGreen}, {"acme/zahlungsdienst-ü"}, {"github/a/1"}});
  table.addRow({{"retrying", Colour::kYellow}, {"o/r"}, {"github/b/2"}});
  const std::string plain =
      "STATUS    REPO                   ID\n"
      "done      acme/zahlungsdienst-ü  github/a/1\n"
      "retrying  o/r                    github/b/2\n";
  CHECK(table.render(false) == plain);

  const std::string coloured = table.render(true);
  CHECK(coloured.find("\033[32mdone\033[0m      acme") != std::string::npos);
  CHECK(coloured.find("\033[2mSTATUS\033[0m    ") == 0);
  // Without the escapes it is the plain table: the colour moved nothing.
  std::string stripped;
  for (size_t i = 0; i < coloured.size(); ++i) {
    if (coloured[i] == '\033') {
      i = coloured.find('m', i);
      continue;
    }
    stripped += coloured[i];
  }
  CHECK(stripped == plain);
}

TEST_CASE("table output: paint leaves text alone when colour is off") {
  CHECK(paint("dead", Colour::kRed, false) == "dead");
  CHECK(paint("dead", Colour::kRed, true) == "\033[31mdead\033[0m");
  CHECK(paint("dead", Colour::kNone, true) == "dead");
}
