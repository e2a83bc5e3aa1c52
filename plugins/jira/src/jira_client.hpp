#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
  std::chrono::milliseconds retry_after{0};  // from Retry-After (429, 503), or the site's wait
  std::string message;                       // for people: status and Jira's own words
  // No answer came (a timeout, a reset, a connection closed without one) or one that may
  // have come after the change was made (5xx other than 503): Jira may have applied the
  // request. A refusal with a status (4xx, 429, 503) is not ambiguous.
  bool ambiguous = false;
};

// A comment as Jira lists it.
struct Comment {
  std::string id;
  std::string body;
};

// A worklog as Jira lists it.
struct Worklog {
  std::string id;
  std::string comment;
  int64_t seconds = 0;  // timeSpentSeconds
};

// Jira's REST API v2, over one pool of kept-alive connections (one per concurrent caller).
// Thread-safe.
//
// Every request has a deadline as a whole (`timeout`, from connecting to the last byte of the
// answer), not only each socket read: httplib bounds each read and write, so a server that
// trickles an answer could hold a caller for ever; a watcher thread shuts the connection down
// when the deadline passes.
//
// A Retry-After from Jira (429, 503) holds for the whole site: the client keeps a not-before
// time shared by every caller, and no request leaves before it. A caller meeting a wait of at
// most `max_in_process_wait` sleeps it out; a longer one fails at once as kRetryLater, with
// retry_after the time left, without a request. The refused request itself is not sent again
// here: its caller decides (it may hold a lease it should not keep while waiting).
class JiraClient {
 public:
  JiraClient(JiraAddress address, Credentials credentials, std::chrono::milliseconds timeout,
             std::chrono::milliseconds max_in_process_wait = std::chrono::seconds(5));
  ~JiraClient();

  // GET /rest/api/2/issue/{key}?fields=status&expand=transitions
  std::variant<IssueState, JiraFailure> issue(const std::string& key);
  // POST /rest/api/2/issue/{key}/transitions: nullopt on 204.
  std::optional<JiraFailure> transition(const std::string& key, const std::string& transition_id);
  // POST /rest/api/2/issue/{key}/comment: nullopt on 201.
  std::optional<JiraFailure> comment(const std::string& key, const std::string& text);
  // GET /rest/api/2/issue/{key}/comment, every page: the comments, oldest first.
  std::variant<std::vector<Comment>, JiraFailure> comments(const std::string& key);

  // ---- Worklogs: smart commits' #time (jira_client_worklogs.cpp) ----
  // POST /rest/api/2/issue/{key}/worklog with timeSpentSeconds and the comment: nullopt on 201.
  std::optional<JiraFailure> worklog(const std::string& key, int64_t seconds,
                                     const std::string& comment);
  // GET /rest/api/2/issue/{key}/worklog, every page: the worklogs, oldest first.
  std::variant<std::vector<Worklog>, JiraFailure> worklogs(const std::string& key);

  // How long the site asked to be left alone for yet (Retry-After); 0 when it did not.
  std::chrono::milliseconds siteWait() const;

  std::chrono::milliseconds timeout() const { return timeout_; }
  std::chrono::milliseconds maxInProcessWait() const { return max_in_process_wait_; }

 private:
  // A connection leased from the pool, given back when done.
  class Lease;
  class DeadlineWatch;
  std::unique_ptr<httplib::Client> makeClient() const;
  // One request, as `send` makes it on a leased connection, after the site's wait, within the
  // deadline. Sets *failure instead of answering when the site's wait is too long to sleep out,
  // or when the deadline cut the request short.
  httplib::Result request(const std::function<httplib::Result(httplib::Client&)>& send,
                          std::optional<JiraFailure>* failure, const std::string& what);
  void holdSite(std::chrono::milliseconds wait);
  // What an answer that is not the success hoped for means, classified as for every call: for
  // the calls of each area's own .cpp.
  JiraFailure failure(const httplib::Result& result, const std::string& what) const;

  JiraAddress address_;
  Credentials credentials_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds max_in_process_wait_;
  std::unique_ptr<DeadlineWatch> watch_;
  // The site's not-before time, as steady_clock ticks since its epoch; 0: none.
  std::atomic<int64_t> not_before_{0};
  std::mutex mutex_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

}  // namespace conduit::jira
