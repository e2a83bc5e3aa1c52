#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace conduit::jira_simulator {

struct SimulatorOptions {
  std::string bind = "127.0.0.1";
  int port = 0;  // 0: any free port
  // Jira Cloud's authentication: Authorization: Basic base64(email:api_token).
  std::string email = "dev@example.test";
  std::string api_token = "simulator-token";
  // When set, Jira Data Center's instead: Authorization: Bearer <pat>; Basic is then refused.
  std::string pat;
  std::chrono::milliseconds delay{0};  // added to every answer (benchmarks)
  std::vector<std::string> projects = {"SOC", "DEVHOP"};
  int threads = 64;  // server threads: each delayed request holds one
  // One line per transition applied, comment added and request refused; may be empty. Called
  // from the server threads. Never given an Authorization header's value.
  std::function<void(const std::string&)> log;
};

// The few Jira REST API v2 endpoints Conduit's Jira plugin calls, on a loopback port, with a
// fixed workflow (README.md): for `make run` without a real Jira, and for integration tests,
// which inspect what the plugin did and inject faults. Issues live in memory only.
class JiraSimulator {
 public:
  explicit JiraSimulator(SimulatorOptions options);
  ~JiraSimulator();  // stops
  JiraSimulator(const JiraSimulator&) = delete;
  JiraSimulator& operator=(const JiraSimulator&) = delete;

  // Binds and serves on a background thread; throws std::runtime_error naming the address if
  // it cannot bind. Requests are accepted as soon as it returns.
  void start();
  // Stops serving, after the requests in flight are answered. The issues are kept. A client
  // holding an idle keep-alive connection delays it by up to httplib's keep-alive timeout (5 s).
  void stop();
  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  // Inspection and set-up; thread-safe.

  // The current status name: "To Do" for an issue never touched, empty for a key that answers
  // 404 (a removed issue, or not a key of a configured project).
  std::string status(const std::string& key) const;
  // Also brings back a removed issue. Throws std::invalid_argument for a key that is not
  // <PROJECT>-<number> of a configured project. A status outside the workflow has no
  // transitions.
  void setStatus(const std::string& key, const std::string& status);
  // From now on GET and POST on the issue answer 404; its comments and counts are dropped.
  void removeIssue(const std::string& key);
  int transitionsApplied(const std::string& key) const;  // successful transition POSTs on it
  int totalTransitionsApplied() const;
  std::vector<std::string> comments(const std::string& key) const;  // their bodies, in order
  int requestCount() const;  // every request received, refused or not

  // Fault injection: the next `times` requests whose method equals `method` and whose path
  // starts with `path_prefix` are answered `status`, with a JSON errorMessages body and, when
  // retry_after_seconds > 0, a `Retry-After: <seconds>` header, instead of being served; they
  // change nothing. Faults are matched in the order they were set.
  void failNext(const std::string& method, const std::string& path_prefix, int status,
                int times = 1, int retry_after_seconds = 0);

 private:
  struct Issue {
    std::string id;  // Jira's numeric id, as a string
    std::string status = "To Do";
    int transitions_applied = 0;
    std::vector<std::string> comments;
  };

  struct Fault {
    std::string method;
    std::string path_prefix;
    int status;
    int remaining;
    int retry_after_seconds;
  };

  // What a request gets, and what to log about it.
  struct Answer {
    int status = 200;
    std::string body;   // JSON, or empty for 204
    std::string event;  // a change applied, or why the request was refused; empty: no log line
    int retry_after_seconds = 0;
  };

  void serve(const httplib::Request& request, httplib::Response& response);
  Answer answer(const httplib::Request& request);
  bool authorized(const httplib::Request& request) const;
  Answer getIssue(const std::string& key);
  Answer postTransition(const std::string& key, const std::string& body);
  Answer postComment(const std::string& key, const std::string& body);

  // These two need mutex_ held.
  Issue* findIssue(const std::string& key);  // nullptr where Jira answers 404
  std::string statusId(const std::string& status);

  const SimulatorOptions options_;
  const std::string expected_authorization_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mutex_;
  std::map<std::string, Issue> issues_;
  std::set<std::string> removed_;
  std::deque<Fault> faults_;
  std::map<std::string, std::string> custom_status_ids_;  // statuses set outside the workflow
  int request_count_ = 0;
  int total_transitions_applied_ = 0;
  int next_issue_id_ = 10000;
  int next_comment_id_ = 10000;
};

}  // namespace conduit::jira_simulator
