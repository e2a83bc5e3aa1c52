#include "issue_keys.hpp"

#include <algorithm>
#include <unordered_set>

namespace conduit::jira {
namespace {

constexpr size_t kMaxDigits = 18;

bool isUpper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool isLower(char c) {
  return c >= 'a' && c <= 'z';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isLetterOrDigit(char c) {
  return isUpper(c) || isDigit(c) || isLower(c);
}
char toUpper(char c) {
  return isLower(c) ? static_cast<char>(c - 'a' + 'A') : c;
}

// How keys may be written: as Jira writes them, or in any case.
struct Case {
  bool insensitive = false;
  // A character that may start a project key: a letter.
  bool isFirst(char c) const { return isUpper(c) || (insensitive && isLower(c)); }
  // A character a project key may hold after its first letter.
  bool isKeyChar(char c) const { return isFirst(c) || isDigit(c) || c == '_'; }
};

// The key whose dash is at `dash` in `text`, upper case, or "" when none of `projects` ends
// there. `digits_end` is where the run of digits after the dash ends (found once by the caller).
std::string keyAt(std::string_view text, size_t dash, size_t digits_end,
                  const std::set<std::string, std::less<>>& projects, size_t longest_project,
                  Case letters) {
  // No number, not as Jira writes it, or longer than any issue number (a key names a Redis
  // checkpoint and a URL: keep it short).
  if (digits_end == dash + 1 || text[dash + 1] == '0' || digits_end - dash - 1 > kMaxDigits) {
    return {};
  }
  if (digits_end < text.size() && isLetterOrDigit(text[digits_end])) return {};
  // The longest project key ending at the dash that starts on a boundary: in `X_SOC-1`, both
  // X_SOC and SOC qualify (an underscore is not a letter or digit); the longer one wins. No
  // project is longer than `longest_project`: looking further back could only find longer
  // runs, which keeps the scan linear however long a run of key characters is.
  size_t first = dash;
  while (first > 0 && dash - first < longest_project && letters.isKeyChar(text[first - 1]))
    --first;
  // The run in upper case (at most `longest_project` bytes): projects are kept upper case.
  std::string run(text.substr(first, dash - first));
  if (letters.insensitive) std::transform(run.begin(), run.end(), run.begin(), toUpper);
  for (size_t start = first; start < dash; ++start) {
    if (!letters.isFirst(text[start])) continue;
    if (start > 0 && isLetterOrDigit(text[start - 1])) continue;
    if (projects.count(std::string_view(run).substr(start - first)) != 0) {
      return run.substr(start - first) + std::string(text.substr(dash, digits_end - dash));
    }
  }
  return {};
}

}  // namespace

IssueKeys findIssueKeys(const std::vector<std::string_view>& texts,
                        const std::set<std::string>& projects, size_t max_keys,
                        JiraSettings::KeyCase key_case) {
  const Case letters{key_case == JiraSettings::KeyCase::kInsensitive};
  const std::set<std::string, std::less<>> lookup(projects.begin(), projects.end());
  size_t longest_project = 0;
  for (const auto& project : projects)
    longest_project = std::max(longest_project, project.size());

  IssueKeys found;
  std::unordered_set<std::string> seen;  // upper case: soc-1 and SOC-1 are one key
  for (std::string_view text : texts) {
    for (size_t dash = text.find('-'); dash != std::string_view::npos;) {
      // The digits after a dash are read once: the next dash is past them.
      size_t digits_end = dash + 1;
      while (digits_end < text.size() && isDigit(text[digits_end]))
        ++digits_end;
      std::string key = keyAt(text, dash, digits_end, lookup, longest_project, letters);
      if (!key.empty() && seen.insert(key).second) {
        if (found.keys.size() < max_keys) {
          found.keys.push_back(std::move(key));
        } else {
          ++found.left_out;
        }
      }
      dash = text.find('-', digits_end);
    }
  }
  return found;
}

std::string_view projectOf(std::string_view key) {
  return key.substr(0, key.rfind('-'));
}

}  // namespace conduit::jira
