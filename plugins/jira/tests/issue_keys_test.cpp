#include "issue_keys.hpp"

#include <doctest/doctest.h>

using conduit::jira::findIssueKeys;
using Keys = std::vector<std::string>;

namespace {

Keys find(std::string_view text, std::set<std::string> projects = {"SOC", "DEV_OPS"}) {
  return findIssueKeys({text}, projects);
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
  CHECK(findIssueKeys({"SOC-2 then SOC-1", "again SOC-2", "DEV_OPS-1 SOC-1"}, {"SOC", "DEV_OPS"}) ==
        Keys{"SOC-2", "SOC-1", "DEV_OPS-1"});
}

TEST_CASE("issue keys: the longest project that ends at the dash wins") {
  CHECK(find("X_SOC-3", {"SOC", "X_SOC"}) == Keys{"X_SOC-3"});
}
