#include "providers/host_conventions.hpp"

namespace conduit::providers {

size_t pathSegments(std::string_view path) {
  size_t segments = 0;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end == start) return 0;
    ++segments;
    if (slash == std::string_view::npos) return segments;
    start = slash + 1;
  }
}

bool isNullRevision(std::string_view sha) {
  return !sha.empty() && sha.find_first_not_of('0') == std::string_view::npos;
}

std::string kindWord(std::string_view text) {
  std::string word;
  word.reserve(text.size());
  for (char c : text) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool capital = c >= 'A' && c <= 'Z';
    word.push_back(letter ? c : capital ? static_cast<char>(c - 'A' + 'a') : '_');
  }
  return word;
}

std::string groupedKind(std::string_view event_key, std::string_view pull_request_group) {
  const size_t colon = event_key.find(':');
  const std::string_view group = event_key.substr(0, colon);
  std::string kind = group == pull_request_group ? "pull_request" : kindWord(group);
  if (colon != std::string_view::npos) kind += "." + kindWord(event_key.substr(colon + 1));
  return kind;
}

bool isMeaningfulKind(std::string_view kind) {
  for (std::string_view meaningful : {"pull_request.merged", "pull_request.opened",
                                      "pull_request.closed", "push", "tag", "release.published"}) {
    if (kind == meaningful) return true;
  }
  return false;
}

std::string pullRequestKind(std::initializer_list<PullRequestOutcome> outcomes,
                            std::string_view event_key, std::string_view state,
                            std::string_view pull_request_group) {
  constexpr std::string_view kUnconfirmed = "pull_request.unconfirmed";
  for (const PullRequestOutcome& outcome : outcomes) {
    if (outcome.event_key == event_key) {
      return std::string(state == outcome.state ? outcome.kind : kUnconfirmed);
    }
  }
  std::string kind = groupedKind(event_key, pull_request_group);
  return isMeaningfulKind(kind) ? std::string(kUnconfirmed) : kind;
}

std::vector<Commit> commitsAt(const PayloadJson& json, const char* pointer) {
  std::vector<Commit> commits;
  const rapidjson::Value* list = json.find(pointer);
  if (list == nullptr || !list->IsArray()) return commits;
  for (const auto& commit : list->GetArray()) {
    if (!commit.IsObject()) continue;
    std::string message = PayloadJson::text(commit, "/message");
    if (message.empty()) continue;
    commits.push_back({PayloadJson::text(commit, "/id"), std::move(message),
                       PayloadJson::text(commit, "/url"),
                       PayloadJson::firstText(commit, {"/author/name", "/author/username"})});
  }
  return commits;
}

}  // namespace conduit::providers
