#pragma once

#include <cstddef>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "jira_settings.hpp"

namespace conduit::jira {

struct IssueKeys {
  std::vector<std::string> keys;  // at most the max_keys asked for, in order of first appearance
  size_t left_out = 0;            // distinct keys found past max_keys
};

// The Jira issue keys that `texts` name, each once, in the order they first appear. A key is a
// project key of `projects` (upper case), a dash and a number, written as Jira writes it: upper
// case, no leading zero, and no letter or digit directly before or after it. So
// `feature/SOC-12_login` and `(SOC-12)` name SOC-12; `XSOC-12`, `SOC-12a` and `soc-12` do not;
// and `CVE-2018-1234` names nothing unless CVE is a project of the worker.
// With `key_case` kInsensitive (workers.yaml `key_case: insensitive`), a key may also be written
// in lower or mixed case: `soc-12` and `Soc-12` name SOC-12, returned upper case, as Jira knows
// it (and found once with SOC-12: each key once, whatever its case). The rest holds as above.
// Time and memory are linear in the texts' length, whatever their shape (a text is anyone's:
// a commit message, a release body): each byte is looked at a bounded number of times, the
// bound being the longest project key's length.
IssueKeys findIssueKeys(const std::vector<std::string_view>& texts,
                        const std::set<std::string>& projects,
                        size_t max_keys = std::numeric_limits<size_t>::max(),
                        JiraSettings::KeyCase key_case = JiraSettings::KeyCase::kExact);

// The project part of a key: SOC for SOC-12.
std::string_view projectOf(std::string_view key);

}  // namespace conduit::jira
