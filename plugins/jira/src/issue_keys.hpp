#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace conduit::jira {

// The Jira issue keys that `texts` name, each once, in the order they first appear. A key is a
// project key of `projects` (upper case), a dash and a number, written as Jira writes it: upper
// case, no leading zero, and no letter or digit directly before or after it. So
// `feature/SOC-12_login` and `(SOC-12)` name SOC-12; `XSOC-12`, `SOC-12a` and `soc-12` do not;
// and `CVE-2018-1234` names nothing unless CVE is a project of the worker.
std::vector<std::string> findIssueKeys(const std::vector<std::string_view>& texts,
                                       const std::set<std::string>& projects);

// The project part of a key: SOC for SOC-12.
std::string_view projectOf(std::string_view key);

}  // namespace conduit::jira
