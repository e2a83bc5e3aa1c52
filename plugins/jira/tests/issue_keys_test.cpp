#include "issue_keys.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <string>

using conduit::jira::findIssueKeys;
using conduit::jira::JiraSettings;
using Keys = std::vector<std::string>;

namespace {

Keys find(std::string_view text, std::set<std::string> projects = {"SOC", "DEV_OPS"}) {
  return findIssueKeys({text}, projects).keys;
}

// As `find`, with key_case: insensitive.
Keys findAnyCase(std::string_view text, std::set<std::string> projects = {"SOC", "DEV_OPS"}) {
  return findIssueKeys({text}, projects, 100, JiraSettings::KeyCase::kInsensitive).keys;
}

// How long finding the keys of `text` takes.
std::chrono::milliseconds timed(const std::string& text, std::set<std::string> projects,
                                JiraSettings::KeyCase key_case = JiraSettings::KeyCase::kExact) {
  const auto started = std::chrono::steady_clock::now();
  auto found = findIssueKeys({text}, projects, std::numeric_limits<size_t>::max(), key_case);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  (void)found;
  return std::chrono::duration_cast<std::chrono::milliseconds>(elapsed);
}

// Well under a second as built for use; a sanitized or unoptimized build is several times
// slower at everything, and a quadratic scan would still take minutes there.
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr std::chrono::milliseconds kLinearBound{3000};
#else
constexpr std::chrono::milliseconds kLinearBound{500};
#endif

std::string repeated(const std::string& piece, size_t bytes) {
  std::string text;
  text.reserve(bytes + piece.size());
  while (text.size() < bytes)
    text += piece;
  return text;
}

}  // namespace

TEST_CASE("issue keys: in titles - bodies and branch names") {
  CHECK(find("SOC-12: fix login") == Keys{"SOC-12"});
  CHECK(find("feature/SOC-12-login") == Keys{"SOC-12"});
  CHECK(find("feature/SOC-12_login") == Keys{"SOC-12"});
  CHECK(find("(SOC-12)") == Keys{"SOC-12"});
  CHECK(find("Fixes SOC-1, SOC-22 and DEV_OPS-3.") == Keys{"SOC-1", "SOC-22", "DEV_OPS-3"});
  CHECK(find("x_SOC-7") == Keys{"SOC-7"});  // an underscore is not a letter or digit
}

TEST_CASE("issue keys: not glued to letters or digits - upper case - no leading zero") {
  CHECK(find("XSOC-12").empty());
  CHECK(find("SOC-12a").empty());
  CHECK(find("1SOC-12").empty());
  CHECK(find("soc-12").empty());
  CHECK(find("Soc-12").empty());
  CHECK(find("SOC-012").empty());
  CHECK(find("SOC-").empty());
  CHECK(find("SOC-x").empty());
  CHECK(find("SOC-1234567890123456789").empty());  // 19 digits: no issue number is that long
  CHECK(find("SOC-123456789012345678") == Keys{"SOC-123456789012345678"});
}

TEST_CASE("issue keys: only the worker's projects count") {
  CHECK(find("CVE-2018-1234 UTF-8 SHA-256").empty());
  CHECK(find("CVE-2018-1234", {"CVE"}) == Keys{"CVE-2018"});
  CHECK(find("OTHER-5 SOC-5") == Keys{"SOC-5"});
}

TEST_CASE("issue keys: each once per event - across texts - in order of first appearance") {
  CHECK(findIssueKeys({"SOC-2 then SOC-1", "again SOC-2", "DEV_OPS-1 SOC-1"}, {"SOC", "DEV_OPS"})
            .keys == Keys{"SOC-2", "SOC-1", "DEV_OPS-1"});
}

TEST_CASE("issue keys: the longest project that ends at the dash wins") {
  CHECK(find("X_SOC-3", {"SOC", "X_SOC"}) == Keys{"X_SOC-3"});
}

TEST_CASE("issue keys: past max_keys the first ones are kept and the rest counted once each") {
  auto found = findIssueKeys({"SOC-1 SOC-2 SOC-1 SOC-3", "SOC-4 SOC-3 SOC-5"}, {"SOC"}, 2);
  CHECK(found.keys == Keys{"SOC-1", "SOC-2"});
  CHECK(found.left_out == 3);  // SOC-3, SOC-4, SOC-5
  CHECK(findIssueKeys({"SOC-1 SOC-2"}, {"SOC"}, 2).left_out == 0);
}

TEST_CASE("issue keys: a megabyte of any shape is scanned in well under a second") {
  constexpr size_t kMegabyte = 1 << 20;
  const std::set<std::string> projects = {"SOC", "DEV_OPS", "A", "AAAAAAAAAA"};
  // Each shape made the earlier scanner look back, or copy, or compare, per dash.
  const std::vector<std::string> shapes = {
      repeated("A-", kMegabyte),
      repeated("A-A-", kMegabyte),
      repeated("SOC-", kMegabyte),
      repeated("A", kMegabyte) + "-1",
      repeated("A_", kMegabyte) + "-1",
      repeated("A", kMegabyte / 2) + repeated("-", kMegabyte / 2),
      repeated("1", kMegabyte / 2) + repeated("-1", kMegabyte / 4),
      repeated("SOC-1", kMegabyte / 5),
      repeated("-", kMegabyte),
  };
  std::string distinct;  // a hundred thousand different keys
  for (int i = 1; distinct.size() < kMegabyte; ++i)
    distinct += "SOC-" + std::to_string(i) + " ";
  for (const auto& text : shapes) {
    CHECK(timed(text, projects) < kLinearBound);
    CHECK(timed(text, projects, JiraSettings::KeyCase::kInsensitive) < kLinearBound);
  }
  // The same shapes in lower case, which only key_case: insensitive reads as keys.
  for (auto text : shapes) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    CHECK(timed(text, projects, JiraSettings::KeyCase::kInsensitive) < kLinearBound);
  }
  CHECK(timed(distinct, projects) < kLinearBound);
  CHECK(timed(distinct, projects, JiraSettings::KeyCase::kInsensitive) < kLinearBound);
  CHECK(findIssueKeys({distinct}, projects, 100).left_out > 100000);
  CHECK(find(repeated("A-", 64) + "1", {"A"}) == Keys{"A-1"});
}

TEST_CASE("issue keys: key_case insensitive - soc-12 and Soc-12 name SOC-12 - upper case") {
  CHECK(findAnyCase("soc-12: fix login") == Keys{"SOC-12"});
  CHECK(findAnyCase("Soc-12") == Keys{"SOC-12"});
  CHECK(findAnyCase("sOC-12") == Keys{"SOC-12"});
  CHECK(findAnyCase("feature/soc-12-login") == Keys{"SOC-12"});
  CHECK(findAnyCase("(dev_ops-3)") == Keys{"DEV_OPS-3"});
  CHECK(findAnyCase("x_soc-7") == Keys{"SOC-7"});  // an underscore is not a letter or digit
  CHECK(findAnyCase("SOC-12") == Keys{"SOC-12"});  // as Jira writes it, too
  // exact (the default) is unchanged.
  CHECK(find("soc-12 Soc-13").empty());
  CHECK(findIssueKeys({"soc-12"}, {"SOC"}, 100, JiraSettings::KeyCase::kExact).keys.empty());
}

TEST_CASE(
    "issue keys: key_case insensitive - still once - still the boundaries - still only "
    "the worker's projects") {
  // One key, whatever case it is written in, in the order it first appears.
  CHECK(findIssueKeys({"soc-2 then SOC-1", "again Soc-2 and soc-1"}, {"SOC"}, 100,
                      JiraSettings::KeyCase::kInsensitive)
            .keys == Keys{"SOC-2", "SOC-1"});
  auto found = findIssueKeys({"soc-1 SOC-1 soc-2 Soc-2 soc-3"}, {"SOC"}, 1,
                             JiraSettings::KeyCase::kInsensitive);
  CHECK(found.keys == Keys{"SOC-1"});
  CHECK(found.left_out == 2);  // SOC-2 and SOC-3, each once
  // No letter or digit directly around it.
  CHECK(findAnyCase("xsoc-12").empty());
  CHECK(findAnyCase("Xsoc-12").empty());
  CHECK(findAnyCase("1soc-12").empty());
  CHECK(findAnyCase("soc-12a").empty());
  CHECK(findAnyCase("soc-12B").empty());
  CHECK(findAnyCase("soc-012").empty());
  CHECK(findAnyCase("soc-").empty());
  // Only the worker's projects, in any case.
  CHECK(findAnyCase("cve-2018-1234 utf-8 sha-256 other-5").empty());
  CHECK(findAnyCase("x_soc-3", {"SOC", "X_SOC"}) == Keys{"X_SOC-3"});
}
