#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace conduit::logging {

// What a log line is about, beyond its message: the delivery, its provider and repo id, the
// worker, the issue. Set for the current thread by whoever works on a delivery (the payload
// route for a request, the worker around an attempt, the plugin host around each worker's
// call); the JSON log format writes them as fields of each line written meanwhile, and the text
// format adds ` delivery=<id>` to a line that does not name its delivery (docs/operations.md,
// "Logs").
struct LogFields {
  std::string_view delivery;
  std::string_view provider;
  std::string_view repo_id;
  std::string_view worker;
  std::string_view issue;
};

// Sets fields for the current thread until it ends; nested scopes add to (or replace) the
// outer ones' fields, which come back when the inner one ends. It keeps its own copies. Not
// movable: a scope lives on the stack of the thread that made it.
class LogScope {
 public:
  LogScope();
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

  LogScope& delivery(std::string_view value);
  LogScope& provider(std::string_view value);
  LogScope& repoId(std::string_view value);
  LogScope& worker(std::string_view value);
  LogScope& issue(std::string_view value);

 private:
  friend LogFields currentLogFields();

  const LogScope* outer_;
  std::optional<std::string> delivery_;
  std::optional<std::string> provider_;
  std::optional<std::string> repo_id_;
  std::optional<std::string> worker_;
  std::optional<std::string> issue_;
};

// The current thread's fields, the innermost scope's value for each; views valid while the
// scopes that set them live.
LogFields currentLogFields();

// The issue key a plugin's log line starts with (`SOC-12 moved from ...`, `SOC-12: ...`), or
// empty: the Jira plugin names the issue a line is about first.
std::string_view leadingIssueKey(std::string_view message);

}  // namespace conduit::logging
