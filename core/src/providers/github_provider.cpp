#include "providers/github_provider.hpp"

#include "providers/header_checks.hpp"
#include "providers/host_conventions.hpp"
#include "providers/payload_json.hpp"

namespace conduit::providers {
namespace {

void pullRequest(const PayloadJson& json, const std::string& action, Event& event) {
  const bool merged = action == "closed" && json.flag("/pull_request/merged");
  event.kind = merged ? "pull_request.merged" : "pull_request." + action;
  event.number = json.text("/pull_request/number");
  if (event.number.empty()) event.number = json.text("/number");
  if (!event.number.empty()) event.reference = "pull request #" + event.number;
  event.title = json.text("/pull_request/title");
  event.body = json.text("/pull_request/body");
  event.branch = json.text("/pull_request/head/ref");
  event.target_branch = json.text("/pull_request/base/ref");
  event.url = json.text("/pull_request/html_url");
  event.author = merged ? json.text("/pull_request/merged_by/login") : std::string();
  if (event.author.empty()) event.author = json.text("/sender/login");
}

void release(const PayloadJson& json, const std::string& action, Event& event) {
  event.kind = "release." + action;
  event.release_name = json.text("/release/name");
  event.release_body = json.text("/release/body");
  event.tag = json.text("/release/tag_name");
  event.released_at = json.text("/release/published_at");
  event.url = json.text("/release/html_url");
  event.author = json.firstText({"/release/author/login", "/sender/login"});
}

void push(const PayloadJson& json, Event& event) {
  const std::string ref = json.text("/ref");
  event.author = json.firstText({"/pusher/name", "/sender/login"});
  // A deleted ref is pushed too (`deleted: true`, `after` all zeros): nothing to trigger on.
  const bool deleted = json.flag("/deleted") || isNullRevision(json.text("/after"));
  if (auto tag = stripPrefix(ref, "refs/tags/")) {
    event.kind = deleted ? "tag.deleted" : "tag";
    event.tag = std::move(*tag);
    event.url = json.text("/compare");
    return;
  }
  event.kind = deleted ? "push.deleted" : "push";
  event.branch = stripPrefix(ref, "refs/heads/").value_or(ref);
  event.url = json.text("/compare");
  event.commits = commitsAt(json, "/commits");
}

}  // namespace

std::optional<std::string> GitHubProvider::repoPathProblem(std::string_view repo_path) const {
  if (pathSegments(repo_path) != 2) {
    return "must be owner/repo, as in GitHub's address of the repository";
  }
  return std::nullopt;
}

const HeaderNames& GitHubProvider::headerNames() const {
  static const HeaderNames names{"X-Hub-Signature-256", "sha256= and 64 hex characters",
                                 "X-GitHub-Event", "X-GitHub-Delivery"};
  return names;
}

bool GitHubProvider::recognizes(const HeaderLookup& headers) const {
  // Gitea, Forgejo and Gogs send GitHub's headers too, beside their own.
  return firstHeader(headers, {"X-GitHub-Event"}) &&
         !firstHeader(headers, {"X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event"});
}

SignatureStatus GitHubProvider::authenticate(const HeaderLookup& headers, std::string_view body,
                                             std::string_view secret) const {
  return checkHexHmacSha256(headers("X-Hub-Signature-256"), "sha256=", body, secret);
}

std::optional<std::string_view> GitHubProvider::eventType(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-GitHub-Event"});
}

std::optional<std::string_view> GitHubProvider::deliveryId(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-GitHub-Delivery"});
}

const std::vector<std::string_view>& GitHubProvider::knownEvents() const {
  static const std::vector<std::string_view> events = {"check_run",
                                                       "check_suite",
                                                       "create",
                                                       "delete",
                                                       "deployment",
                                                       "deployment_status",
                                                       "fork",
                                                       "issue_comment",
                                                       "issues",
                                                       "ping",
                                                       "pull_request",
                                                       "pull_request_review",
                                                       "pull_request_review_comment",
                                                       "push",
                                                       "release",
                                                       "repository",
                                                       "status",
                                                       "workflow_job",
                                                       "workflow_run"};
  return events;
}

std::optional<Event> GitHubProvider::normalize(std::string_view event_type,
                                               std::string_view payload, std::string& error) const {
  auto json = PayloadJson::parse(payload, error);
  if (!json) return std::nullopt;
  Event event;
  event.repository = json->text("/repository/full_name");
  // As kind words: no header or payload value can spell a dot or another kind.
  const std::string action = kindWord(json->text("/action"));
  if (event_type == "pull_request") {
    pullRequest(*json, action.empty() ? "unknown" : action, event);
  } else if (event_type == "release") {
    release(*json, action.empty() ? "unknown" : action, event);
  } else if (event_type == "push") {
    push(*json, event);
  } else {
    event.kind = action.empty() ? kindWord(event_type) : kindWord(event_type) + "." + action;
  }
  return event;
}

}  // namespace conduit::providers
