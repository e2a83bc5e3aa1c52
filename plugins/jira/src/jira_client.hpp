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
#include "site_throttle.hpp"

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

// ---- Fix versions and remote links (jira_client_versions.cpp) ----

// A version of a project, as Jira lists it; an issue's fix versions have only id and name.
struct Version {
  std::string id;
  std::string name;
  bool released = false;
  std::string release_date;  // YYYY-MM-DD; empty when none
};

// A version to make: POST /rest/api/2/version.
struct NewVersion {
  std::string project;  // its key: SOC
  std::string name;
  bool released = true;
  std::string release_date;  // YYYY-MM-DD; empty: none
};

// A link from an issue to a page elsewhere (a pull request, a release, a commit), in Jira's
// remote link object shape. Jira keeps one link per issue and global_id: posting again updates it.
struct RemoteLink {
  std::string global_id;  // the page's URL
  std::string url;
  std::string title;             // "PR #12: Sign-in with SSO (merged)"
  std::string summary;           // "org/repo on GitHub"
  std::string relationship;      // how Jira groups it: "pull request", "release", "commit"
  std::string application_type;  // "conduit.github"
  std::string application_name;  // "GitHub"
  std::string icon_url;          // 16x16, shown beside the title; empty: none
  std::string icon_title;
  std::optional<bool> resolved;  // shown struck through when true (a merged pull request)
  std::string commit;  // a commit's id (else its URL): not sent, it names the commit's checkpoint
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
// A Retry-After from Jira (429, 503) holds for the whole site: the clients of one site in the
// process share a not-before time (SiteThrottle), and no request leaves before it. A caller
// meeting a wait of at most `max_in_process_wait` sleeps it out; a longer one fails at once as
// kRetryLater, with retry_after the time left, without a request. The refused request itself is
// not sent again here: its caller decides (it may hold a lease it should not keep while
// waiting).
//
// `max_requests_per_second` (atlassian_max_requests_per_second; 0: no limit) is a token bucket
// shared by the clients of the site in the process, all their threads together. A request waits
// for its token within its deadline: where the token would come after half of it (leaving Jira
// less than half the time to answer), it fails at once as kRetryLater, without a request, with
// retry_after the time until the token.
class JiraClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultMaxInProcessWait{5000};

  JiraClient(JiraAddress address, Credentials credentials, std::chrono::milliseconds timeout,
             std::chrono::milliseconds max_in_process_wait = kDefaultMaxInProcessWait,
             double max_requests_per_second = 0);
  ~JiraClient();

  // GET /rest/api/2/issue/{key}?fields=status&expand=transitions
  std::variant<IssueState, JiraFailure> issue(const std::string& key);
  // POST /rest/api/2/issue/{key}/transitions: nullopt on 204.
  std::optional<JiraFailure> transition(const std::string& key, const std::string& transition_id);
  // POST /rest/api/2/issue/{key}/comment: nullopt on 201.
  std::optional<JiraFailure> comment(const std::string& key, const std::string& text);
  // GET /rest/api/2/issue/{key}/comment, every page: the comments, oldest first.
  std::variant<std::vector<Comment>, JiraFailure> comments(const std::string& key);

  // ---- Fix versions and remote links (jira_client_versions.cpp) ----

  // GET /rest/api/2/project/{project}/versions: every version of the project.
  std::variant<std::vector<Version>, JiraFailure> versions(const std::string& project);
  // POST /rest/api/2/version: the version made (201). Jira answers 400 for a name the project
  // has already (kRejected, with its message).
  std::variant<Version, JiraFailure> createVersion(const NewVersion& version);
  // GET /rest/api/2/issue/{key}?fields=fixVersions: the issue's fix versions.
  std::variant<std::vector<Version>, JiraFailure> fixVersions(const std::string& key);
  // PUT /rest/api/2/issue/{key}, {"update":{"fixVersions":[{"add":{"name":...}}]}}: adds the
  // version to the issue's fix versions, keeping the others; nullopt on 204.
  std::optional<JiraFailure> addFixVersion(const std::string& key, const std::string& name);
  // POST /rest/api/2/issue/{key}/remotelink: true when Jira made a new link (201), false when it
  // updated the one of the same global id (200).
  std::variant<bool, JiraFailure> remoteLink(const std::string& key, const RemoteLink& link);

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
  std::shared_ptr<SiteThrottle> site_;  // shared with the site's other clients in the process
  std::mutex mutex_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

}  // namespace conduit::jira
