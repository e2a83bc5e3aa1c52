#include "logging/log_context.hpp"

namespace conduit::logging {
namespace {

thread_local const LogScope* t_innermost = nullptr;

bool isUpper(char c) {
  return c >= 'A' && c <= 'Z';
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

LogScope::LogScope() : outer_(t_innermost) {
  t_innermost = this;
}

LogScope::~LogScope() {
  t_innermost = outer_;
}

LogScope& LogScope::delivery(std::string_view value) {
  delivery_.emplace(value);
  return *this;
}

LogScope& LogScope::provider(std::string_view value) {
  provider_.emplace(value);
  return *this;
}

LogScope& LogScope::repoId(std::string_view value) {
  repo_id_.emplace(value);
  return *this;
}

LogScope& LogScope::worker(std::string_view value) {
  worker_.emplace(value);
  return *this;
}

LogScope& LogScope::issue(std::string_view value) {
  issue_.emplace(value);
  return *this;
}

LogFields currentLogFields() {
  LogFields fields;
  bool delivery = false, provider = false, repo_id = false, worker = false, issue = false;
  for (const LogScope* scope = t_innermost; scope != nullptr; scope = scope->outer_) {
    auto take = [](bool& found, std::string_view& field, const std::optional<std::string>& value) {
      if (!found && value) {
        field = *value;
        found = true;
      }
    };
    take(delivery, fields.delivery, scope->delivery_);
    take(provider, fields.provider, scope->provider_);
    take(repo_id, fields.repo_id, scope->repo_id_);
    take(worker, fields.worker, scope->worker_);
    take(issue, fields.issue, scope->issue_);
  }
  return fields;
}

std::string_view leadingIssueKey(std::string_view message) {
  // A Jira key: a project key (an uppercase letter, then uppercase letters, digits or `_`), a
  // dash, digits; then the end, a space or a colon.
  size_t i = 0;
  if (i >= message.size() || !isUpper(message[i])) return {};
  while (i < message.size() && (isUpper(message[i]) || isDigit(message[i]) || message[i] == '_'))
    ++i;
  if (i + 1 >= message.size() || message[i] != '-' || !isDigit(message[i + 1])) return {};
  ++i;
  while (i < message.size() && isDigit(message[i]))
    ++i;
  if (i < message.size() && message[i] != ' ' && message[i] != ':') return {};
  return message.substr(0, i);
}

}  // namespace conduit::logging
