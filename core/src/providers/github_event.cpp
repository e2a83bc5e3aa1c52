#include "providers/github_event.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

namespace conduit::providers {
namespace {

// The string at `pointer` (a JSON pointer), or "" when it is missing, null or not a string.
std::string text(const rapidjson::Document& document, const char* pointer) {
  const rapidjson::Value* value = rapidjson::Pointer(pointer).Get(document);
  if (value == nullptr || !value->IsString()) return {};
  return std::string(value->GetString(), value->GetStringLength());
}

bool flag(const rapidjson::Document& document, const char* pointer) {
  const rapidjson::Value* value = rapidjson::Pointer(pointer).Get(document);
  return value != nullptr && value->IsBool() && value->GetBool();
}

void pullRequest(const rapidjson::Document& d, const std::string& action, Event& event) {
  const bool merged = action == "closed" && flag(d, "/pull_request/merged");
  event.kind = merged ? "pull_request.merged" : "pull_request." + action;
  event.title = text(d, "/pull_request/title");
  event.body = text(d, "/pull_request/body");
  event.branch = text(d, "/pull_request/head/ref");
  event.url = text(d, "/pull_request/html_url");
  event.author = merged ? text(d, "/pull_request/merged_by/login") : std::string();
  if (event.author.empty()) event.author = text(d, "/sender/login");
}

void release(const rapidjson::Document& d, const std::string& action, Event& event) {
  event.kind = "release." + action;
  event.release_name = text(d, "/release/name");
  event.release_body = text(d, "/release/body");
  event.url = text(d, "/release/html_url");
  event.author = text(d, "/release/author/login");
  if (event.author.empty()) event.author = text(d, "/sender/login");
}

void push(const rapidjson::Document& d, Event& event) {
  event.kind = "push";
  constexpr std::string_view kHeads = "refs/heads/";
  event.branch = text(d, "/ref");
  if (event.branch.rfind(kHeads, 0) == 0) event.branch.erase(0, kHeads.size());
  event.url = text(d, "/compare");
  event.author = text(d, "/pusher/name");
  if (event.author.empty()) event.author = text(d, "/sender/login");
  const rapidjson::Value* commits = rapidjson::Pointer("/commits").Get(d);
  if (commits == nullptr || !commits->IsArray()) return;
  for (const auto& commit : commits->GetArray()) {
    if (!commit.IsObject()) continue;
    auto message = commit.FindMember("message");
    if (message != commit.MemberEnd() && message->value.IsString()) {
      event.commit_messages.emplace_back(message->value.GetString(),
                                         message->value.GetStringLength());
    }
  }
}

}  // namespace

std::optional<Event> normalizeGitHubEvent(std::string_view event_type, std::string_view payload,
                                          std::string& error) {
  // Parsed in place, in a copy: the strings stay where they are instead of each being copied
  // into the document, which halves the worker's CPU per delivery (docs/BENCHMARKS.md). The
  // strings are unescaped in the copy; the payload itself is untouched.
  std::string buffer(payload);
  rapidjson::Document document;
  document.ParseInsitu(buffer.data());
  if (document.HasParseError() || !document.IsObject()) {
    error = "the payload is not a JSON object";
    return std::nullopt;
  }
  Event event;
  const std::string action = text(document, "/action");
  if (event_type == "pull_request") {
    pullRequest(document, action.empty() ? "unknown" : action, event);
  } else if (event_type == "release") {
    release(document, action.empty() ? "unknown" : action, event);
  } else if (event_type == "push") {
    push(document, event);
  } else {
    event.kind = action.empty() ? std::string(event_type) : std::string(event_type) + "." + action;
  }
  return event;
}

}  // namespace conduit::providers
