#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "jira_settings.hpp"

namespace httplib {
class Client;
class Result;
}  // namespace httplib

namespace conduit::jira {

struct Transition {
  std::string id;
  std::string name;  // "Start work"
  std::string to;    // the status it leads to: "In Progress"
};

// An issue's current status and the transitions available from it.
struct IssueState {
  std::string status;
  std::vector<Transition> transitions;
};

// Why a call to Jira did not succeed, sorted by what to do about it.
struct JiraFailure {
  enum class Kind {
    kCredentials,  // 401 or 403: nothing works until the credentials are fixed
    kNotFound,     // 404: no such issue (or no permission to see it)
    kRejected,     // 400 and other 4xx: this request will never succeed
    kRetryLater,   // 429, 5xx, network errors: try again later
  };
  Kind kind = Kind::kRetryLater;
  int status = 0;                            // the HTTP status; 0 for a network error
  std::chrono::milliseconds retry_after{0};  // from Retry-After (429, 503)
  std::string message;                       // for people: status and Jira's own words
};

// Jira's REST API v2, over one pool of kept-alive connections (one per concurrent caller).
// Thread-safe.
class JiraClient {
 public:
  JiraClient(JiraAddress address, Credentials credentials, std::chrono::milliseconds timeout);
  ~JiraClient();

  // GET /rest/api/2/issue/{key}?fields=status&expand=transitions
  std::variant<IssueState, JiraFailure> issue(const std::string& key);
  // POST /rest/api/2/issue/{key}/transitions: nullopt on 204.
  std::optional<JiraFailure> transition(const std::string& key, const std::string& transition_id);
  // POST /rest/api/2/issue/{key}/comment: nullopt on 201.
  std::optional<JiraFailure> comment(const std::string& key, const std::string& text);

 private:
  // A connection leased from the pool, given back when done.
  class Lease;
  std::unique_ptr<httplib::Client> makeClient() const;
  // One request on a leased connection.
  httplib::Result get(const std::string& path);
  httplib::Result post(const std::string& path, const std::string& json);

  JiraAddress address_;
  Credentials credentials_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

}  // namespace conduit::jira
