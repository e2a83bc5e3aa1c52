#include "providers/gitlab_provider.hpp"

#include "providers/header_checks.hpp"
#include "providers/host_conventions.hpp"
#include "providers/payload_json.hpp"

namespace conduit::providers {
namespace {

std::string mergeRequestKind(const std::string& action) {
  if (action == "merge") return "pull_request.merged";
  if (action == "open") return "pull_request.opened";
  if (action == "close") return "pull_request.closed";  // without merge: GitLab says `merge`
  return "pull_request." + kindWord(action);
}

void mergeRequest(const PayloadJson& json, Event& event) {
  // The "Test" button of GitLab's webhook settings sends a project's first merge request with
  // no action (its state may well be `merged`): a test, never a merge.
  const std::string action = json.text("/object_attributes/action");
  event.kind = action.empty() ? "pull_request.test" : mergeRequestKind(action);
  event.number = json.text("/object_attributes/iid");
  if (!event.number.empty()) event.reference = "merge request !" + event.number;
  event.title = json.text("/object_attributes/title");
  event.body = json.text("/object_attributes/description");
  event.branch = json.text("/object_attributes/source_branch");
  event.target_branch = json.text("/object_attributes/target_branch");
  event.url = json.text("/object_attributes/url");
  // GitLab names no merger apart: `user` is whoever did what the action says.
  event.author = json.firstText({"/user/username", "/user/name"});
}

void tagPush(const PayloadJson& json, std::string_view ref, Event& event) {
  event.author = json.firstText({"/user_username", "/user_name"});
  auto tag = stripPrefix(ref, "refs/tags/");
  if (!tag) {
    // The "Test" button sends a push of a branch under Tag Push Hook: no tag was pushed.
    event.kind = "tag.test";
    return;
  }
  event.tag = std::move(*tag);
  const std::string project_url = json.text("/project/web_url");
  if (isNullRevision(json.text("/after"))) {
    event.kind = "tag.deleted";  // not a tag pushed: nothing to trigger
    event.url = project_url;
    return;
  }
  event.kind = "tag";
  if (!project_url.empty() && !event.tag.empty()) event.url = project_url + "/-/tags/" + event.tag;
}

void push(const PayloadJson& json, Event& event) {
  const std::string ref = json.text("/ref");
  if (stripPrefix(ref, "refs/tags/")) {
    tagPush(json, ref, event);
    return;
  }
  const std::string before = json.text("/before");
  const std::string after = json.text("/after");
  event.kind = isNullRevision(after) ? "push.deleted" : "push";  // a deleted branch: no trigger
  event.branch = stripPrefix(ref, "refs/heads/").value_or(ref);
  event.author = json.firstText({"/user_username", "/user_name"});
  event.commits = commitsAt(json, "/commits");
  // The page of the whole push where GitLab has one (both ends exist), as GitHub's `compare`;
  // a new branch's push has no `before`: its newest commit's page; a deleted branch: the
  // project's.
  const std::string project_url = json.text("/project/web_url");
  if (!project_url.empty() && !before.empty() && !after.empty() && !isNullRevision(before) &&
      !isNullRevision(after)) {
    event.url = project_url + "/-/compare/" + before + "..." + after;
  } else if (!event.commits.empty() && !event.commits.back().url.empty()) {
    event.url = event.commits.back().url;
  } else {
    event.url = project_url;
  }
}

void release(const PayloadJson& json, Event& event) {
  const std::string action = json.text("/action");
  event.kind = action == "create"   ? "release.published"
               : action == "update" ? "release.updated"
               : action == "delete" ? "release.deleted"
                                    : "release." + kindWord(action.empty() ? "unknown" : action);
  event.release_name = json.text("/name");
  event.tag = json.text("/tag");
  event.release_body = json.text("/description");
  event.released_at = json.text("/released_at");
  event.url = json.text("/url");
  // GitLab's documented Release Hook names nobody; read the user should one come.
  event.author = json.firstText({"/user/username", "/user/name"});
}

// "Note Hook" -> "note", "Issue Hook" with action "close" -> "issue.close". A made-up event
// header that would read as one of the kinds Conduit gives a meaning to ("Push", "Release")
// is kept apart ("gitlab_push"), so that nothing triggers by accident.
std::string otherKind(const PayloadJson& json, std::string_view event_type) {
  constexpr std::string_view kSuffix = " Hook";
  if (event_type.size() > kSuffix.size() &&
      event_type.substr(event_type.size() - kSuffix.size()) == kSuffix) {
    event_type.remove_suffix(kSuffix.size());
  }
  std::string kind = kindWord(event_type);
  if (kind == "push" || kind == "tag" || kind == "release" || kind == "pull_request") {
    kind = "gitlab_" + kind;
  }
  const std::string action = json.text("/object_attributes/action");
  if (!action.empty()) kind += "." + kindWord(action);
  return kind;
}

}  // namespace

std::optional<std::string> GitLabProvider::repoPathProblem(std::string_view repo_path) const {
  // GitLab nests groups: gitlab-org/hello-world, acme/platform/payments/api.
  if (pathSegments(repo_path) < 2) {
    return "must be group/project or group/subgroup/project, as in GitLab's address of the "
           "project";
  }
  return std::nullopt;
}

const HeaderNames& GitLabProvider::headerNames() const {
  // The token is compared as it is: any value is well formed, a wrong one just does not match.
  static const HeaderNames names{"X-Gitlab-Token", "", "X-Gitlab-Event",
                                 "Idempotency-Key or X-Gitlab-Webhook-UUID"};
  return names;
}

bool GitLabProvider::recognizes(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Gitlab-Event"}).has_value();
}

SignatureStatus GitLabProvider::authenticate(const HeaderLookup& headers, std::string_view /*body*/,
                                             std::string_view secret) const {
  // GitLab signs nothing: it sends the "Secret token" of its webhook settings as it is.
  return checkToken(headers("X-Gitlab-Token"), secret);
}

std::optional<std::string_view> GitLabProvider::eventType(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Gitlab-Event"});
}

std::optional<std::string_view> GitLabProvider::deliveryId(const HeaderLookup& headers) const {
  // Idempotency-Key (GitLab 17.4+) stays the same when GitLab retries or someone clicks
  // "Resend request"; X-Gitlab-Webhook-UUID is new for every attempt.
  return firstHeader(headers, {"Idempotency-Key", "X-Gitlab-Webhook-UUID"});
}

const std::vector<std::string_view>& GitLabProvider::knownEvents() const {
  // X-Gitlab-Event is the hook's kind, titleized: push_hooks -> "Push Hook".
  static const std::vector<std::string_view> events = {"Confidential Issue Hook",
                                                       "Confidential Note Hook",
                                                       "Deployment Hook",
                                                       "Emoji Hook",
                                                       "Feature Flag Hook",
                                                       "Issue Hook",
                                                       "Job Hook",
                                                       "Member Hook",
                                                       "Merge Request Hook",
                                                       "Milestone Hook",
                                                       "Note Hook",
                                                       "Pipeline Hook",
                                                       "Project Hook",
                                                       "Push Hook",
                                                       "Release Hook",
                                                       "Resource Access Token Hook",
                                                       "Subgroup Hook",
                                                       "System Hook",
                                                       "Tag Push Hook",
                                                       "Vulnerability Hook",
                                                       "Wiki Page Hook"};
  return events;
}

std::optional<Event> GitLabProvider::normalize(std::string_view event_type,
                                               std::string_view payload, std::string& error) const {
  auto json = PayloadJson::parse(payload, error);
  if (!json) return std::nullopt;
  Event event;
  event.repository = json->text("/project/path_with_namespace");
  if (event_type == "Merge Request Hook") {
    mergeRequest(*json, event);
  } else if (event_type == "Push Hook") {
    push(*json, event);
  } else if (event_type == "Tag Push Hook") {
    tagPush(*json, json->text("/ref"), event);
  } else if (event_type == "Release Hook") {
    release(*json, event);
  } else {
    event.kind = otherKind(*json, event_type);
  }
  return event;
}

}  // namespace conduit::providers
