#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
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
  // Random faults (the chaos soak): each request to the REST API (/rest/...), with this
  // probability, gets one fault, the kinds taken in turn: 429 with Retry-After: 1; 500; an
  // answer held for `fault_hang` and then 500 (the client times out first); and a request
  // served, its change applied, then its connection closed without any answer. 0: none.
  double fault_rate = 0;
  uint64_t fault_seed = 1;  // the same seed and the same requests give the same faults
  std::chrono::milliseconds fault_hang{15000};
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
  // The names of the transitions applied to the issue, in the order they were applied.
  std::vector<std::string> transitionHistory(const std::string& key) const;
  std::vector<std::string> comments(const std::string& key) const;  // their bodies, in order
  int worklogCount(const std::string& key) const;

  // A project's version, as GET /rest/api/2/project/{key}/versions lists it.
  struct Version {
    std::string id;  // Jira's numeric id, as a string
    std::string name;
    bool released = false;
    std::string release_date;  // "yyyy-mm-dd", or empty for none
    bool archived = false;
  };
  // The project's versions in the order they were made; empty for a project not configured.
  std::vector<Version> versions(const std::string& project) const;
  // Makes a version as POST /rest/api/2/version would, for a test that needs one to exist
  // beforehand; answers its id. A name the project already has (Jira compares them ignoring
  // case) is left as it is and its id answered. Throws std::invalid_argument for a project
  // not configured or an empty name.
  std::string addVersion(const std::string& project, const std::string& name, bool released = false,
                         const std::string& release_date = "");
  // The names of the issue's fix versions, in the order they were added.
  std::vector<std::string> fixVersions(const std::string& key) const;

  struct Worklog {
    std::string id;
    int seconds = 0;      // timeSpentSeconds
    std::string comment;  // empty when none was given
    std::string author;   // the account that logged it: the simulator's email
  };
  std::vector<Worklog> worklogs(const std::string& key) const;  // in the order logged

  struct RemoteLink {
    int id = 0;
    std::string global_id;  // empty for a link posted without one
    std::string url;        // object.url
    std::string title;      // object.title
    std::string relationship;
    int updates = 0;  // POSTs that updated it through its globalId after the one that made it
  };
  std::vector<RemoteLink> remoteLinks(const std::string& key) const;  // in the order made
  int requestCount() const;  // every request received, refused or not

  // Faults injected so far, by kind: failNext's 429 counts as rate_limited and its 5xx as
  // server_error; hangNext as timeout; dropAnswerNext as dropped; random faults as theirs.
  struct FaultCounts {
    int rate_limited = 0;
    int server_error = 0;
    int timeout = 0;
    int dropped = 0;
  };
  FaultCounts faultCounts() const;
  // Forgets every issue, comment, worklog, link, version, count and pending fault, and starts
  // the random faults again from the seed, as POST /simulator/reset does.
  void reset();

  // Fault injection: the next `times` requests whose method equals `method` and whose path
  // starts with `path_prefix` are answered `status`, with a JSON errorMessages body and, when
  // retry_after_seconds > 0, a `Retry-After: <seconds>` header, instead of being served; they
  // change nothing. Faults are matched in the order they were set.
  void failNext(const std::string& method, const std::string& path_prefix, int status,
                int times = 1, int retry_after_seconds = 0);
  // The same matching; the next `times` such requests are held for `hang` (or until stop())
  // and then answered 500, changing nothing: a client with a shorter timeout sees a timeout.
  void hangNext(const std::string& method, const std::string& path_prefix,
                std::chrono::milliseconds hang, int times = 1);
  // The same matching; the next `times` such requests are served as usual, their change
  // (transition, comment, worklog) applied, and then their connection is closed without any
  // answer: what a client sees when Jira did the work but the answer was lost.
  void dropAnswerNext(const std::string& method, const std::string& path_prefix, int times = 1);

 private:
  struct Comment {
    std::string id;
    std::string body;
  };

  struct StoredWorklog {
    Worklog worklog;
    std::string started;  // Jira's timestamp, as given or when it was logged
    std::string created;
  };

  struct StoredRemoteLink {
    RemoteLink link;
    // The request's "object" and "application" (absent: empty), as JSON, given back as posted.
    std::string object_json;
    std::string application_json;
  };

  struct Issue {
    std::string id;  // Jira's numeric id, as a string
    std::string status = "To Do";
    int transitions_applied = 0;
    // (transition name, status it led to), in the order applied.
    std::vector<std::pair<std::string, std::string>> history;
    std::vector<Comment> comments;
    std::vector<StoredWorklog> worklogs;
    std::vector<std::string> fix_version_ids;  // in the order added
    std::vector<StoredRemoteLink> remote_links;
  };

  enum class FaultKind { kStatus, kHang, kDrop };

  struct Fault {
    FaultKind kind = FaultKind::kStatus;
    std::string method;  // empty for a random fault
    std::string path_prefix;
    int status = 500;  // kStatus
    int remaining = 1;
    int retry_after_seconds = 0;        // kStatus
    std::chrono::milliseconds hang{0};  // kHang
  };

  // What a request gets, and what to log about it.
  struct Answer {
    int status = 200;
    std::string body;   // JSON, or empty for 204
    std::string event;  // a change applied, or why the request was refused; empty: no log line
    int retry_after_seconds = 0;
    std::string fault = {};  // "fault: <kind> <method> <path>" when one was injected
    bool drop = false;       // close the connection instead of answering
  };

  void serve(const httplib::Request& request, httplib::Response& response);
  Answer answer(const httplib::Request& request);
  Answer route(const httplib::Request& request);
  std::optional<Fault> takeFault(const httplib::Request& request);  // needs mutex_ held
  bool authorized(const httplib::Request& request) const;
  Answer getIssue(const std::string& key, const httplib::Request& request);
  Answer putIssue(const std::string& key, const std::string& body);
  Answer getComments(const std::string& key, const httplib::Request& request);
  Answer postTransition(const std::string& key, const std::string& body);
  Answer postComment(const std::string& key, const std::string& body);
  Answer postWorklog(const std::string& key, const std::string& body);
  Answer getWorklogs(const std::string& key);
  Answer postRemoteLink(const std::string& key, const std::string& body);
  Answer getRemoteLinks(const std::string& key, const httplib::Request& request);
  Answer getProjectVersions(const std::string& project);
  Answer postVersion(const std::string& body);
  Answer simulatorIssues();
  // Closes the request's connection, so that no byte of an answer reaches the client.
  bool dropConnection(const httplib::Request& request) const;

  // These need mutex_ held.
  Issue* findIssue(const std::string& key);  // nullptr where Jira answers 404
  std::string statusId(const std::string& status);
  // The project's version of that name, compared as Jira does (ignoring case); nullptr if none.
  Version* findVersion(const std::string& project, const std::string& name);
  const Version* versionById(const std::string& project, const std::string& id) const;
  // Makes the version; the name must be new to the project.
  Version& makeVersion(const std::string& project, const std::string& name, bool released,
                       const std::string& release_date);
  std::string projectId(const std::string& project) const;  // "" when not configured

  const SimulatorOptions options_;
  const std::string expected_authorization_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  // Held requests (hangNext, random timeouts) wait on this, so that stop() does not wait for
  // them to run out.
  std::mutex hang_mutex_;
  std::condition_variable hang_done_;
  bool stopping_ = false;

  mutable std::mutex mutex_;
  std::map<std::string, Issue> issues_;
  std::set<std::string> removed_;
  std::deque<Fault> faults_;
  std::map<std::string, std::string> custom_status_ids_;  // statuses set outside the workflow
  std::map<std::string, std::vector<Version>> versions_;  // by project key, in creation order
  int request_count_ = 0;
  int api_request_count_ = 0;  // to /rest/: the ones random faults may hit
  int total_transitions_applied_ = 0;
  FaultCounts fault_counts_;
  std::mt19937_64 fault_random_;
  uint64_t next_random_fault_ = 0;  // which kind the next random fault is
  int next_issue_id_ = 10000;
  int next_comment_id_ = 10000;
  int next_worklog_id_ = 10000;
  int next_version_id_ = 10000;
  int next_remote_link_id_ = 10000;
};

}  // namespace conduit::jira_simulator
