#include "issue_keys.hpp"

#include <algorithm>

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
std::string keyAt(std::string_view text, size_t dash, const std::set<std::string>& projects) {
  size_t end = dash + 1;
  while (end < text.size() && isDigit(text[end]))
    ++end;
  // No number, not as Jira writes it, or longer than any issue number (a key names a Redis
  // checkpoint and a URL: keep it short).
  if (end == dash + 1 || text[dash + 1] == '0' || end - dash - 1 > kMaxDigits) return {};
  if (end < text.size() && isLetterOrDigit(text[end])) return {};
  // The longest project key ending at the dash that starts on a boundary: in `X_SOC-1`, both
  // X_SOC and SOC qualify (an underscore is not a letter or digit); the longer one wins.
  size_t first = dash;
  while (first > 0 && isKeyChar(text[first - 1]))
    --first;
  for (size_t start = first; start < dash; ++start) {
    if (!isUpper(text[start])) continue;
    if (start > 0 && isLetterOrDigit(text[start - 1])) continue;
    const std::string project(text.substr(start, dash - start));
    if (projects.count(project) != 0) return std::string(text.substr(start, end - start));
  }
  return {};
}

}  // namespace

std::vector<std::string> findIssueKeys(const std::vector<std::string_view>& texts,
                                       const std::set<std::string>& projects) {
  std::vector<std::string> keys;
  for (std::string_view text : texts) {
    for (size_t dash = text.find('-'); dash != std::string_view::npos;
         dash = text.find('-', dash + 1)) {
      std::string key = keyAt(text, dash, projects);
      if (!key.empty() && std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(std::move(key));
      }
    }
  }
  return keys;
}

std::string_view projectOf(std::string_view key) {
  return key.substr(0, key.rfind('-'));
}

}  // namespace conduit::jira
