#include "issue_keys.hpp"

#include <algorithm>
#include <unordered_set>

namespace conduit::jira {
namespace {

constexpr size_t kMaxDigits = 18;

bool isUpper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isLetterOrDigit(char c) {
  return isUpper(c) || isDigit(c) || (c >= 'a' && c <= 'z');
}
// A character a project key may hold after its first letter.
bool isKeyChar(char c) {
  return isUpper(c) || isDigit(c) || c == '_';
}

// The key whose dash is at `dash` in `text`, or "" when none of `projects` ends there.
// `digits_end` is where the run of digits after the dash ends (found once by the caller).
std::string_view keyAt(std::string_view text, size_t dash, size_t digits_end,
                       const std::set<std::string, std::less<>>& projects, size_t longest_project) {
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
  while (first > 0 && dash - first < longest_project && isKeyChar(text[first - 1]))
    --first;
  for (size_t start = first; start < dash; ++start) {
    if (!isUpper(text[start])) continue;
    if (start > 0 && isLetterOrDigit(text[start - 1])) continue;
    if (projects.count(text.substr(start, dash - start)) != 0) {
      return text.substr(start, digits_end - start);
    }
  }
  return {};
}

}  // namespace

IssueKeys findIssueKeys(const std::vector<std::string_view>& texts,
                        const std::set<std::string>& projects, size_t max_keys,
                        JiraSettings::KeyCase key_case) {
  if (key_case == JiraSettings::KeyCase::kInsensitive) {
    // Any case is upper case, as Jira writes keys: the same scan of an upper-case copy finds
    // `soc-12` as SOC-12, with the same boundaries (a letter is a letter in either case), in
    // the same linear time.
    std::vector<std::string> upper(texts.begin(), texts.end());
    for (auto& text : upper) {
      std::transform(text.begin(), text.end(), text.begin(), [](char c) {
        return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
      });
    }
    return findIssueKeys(std::vector<std::string_view>(upper.begin(), upper.end()), projects,
                         max_keys, JiraSettings::KeyCase::kExact);
  }
  const std::set<std::string, std::less<>> lookup(projects.begin(), projects.end());
  size_t longest_project = 0;
  for (const auto& project : projects)
    longest_project = std::max(longest_project, project.size());

  IssueKeys found;
  std::unordered_set<std::string_view> seen;  // views into `texts`, which outlive the call
  for (std::string_view text : texts) {
    for (size_t dash = text.find('-'); dash != std::string_view::npos;) {
      // The digits after a dash are read once: the next dash is past them.
      size_t digits_end = dash + 1;
      while (digits_end < text.size() && isDigit(text[digits_end]))
        ++digits_end;
      const std::string_view key = keyAt(text, dash, digits_end, lookup, longest_project);
      if (!key.empty() && seen.insert(key).second) {
        if (found.keys.size() < max_keys) {
          found.keys.emplace_back(key);
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
