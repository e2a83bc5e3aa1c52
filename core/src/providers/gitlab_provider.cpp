#include "providers/gitlab_provider.hpp"

#include <cctype>

#include "providers/header_checks.hpp"
#include "providers/payload_json.hpp"

namespace conduit::providers {
namespace {

// A name or action as part of a kind: lower case, anything but a letter or digit as `_`, so
// that no header or payload value can spell a dot or another kind ("Wiki Page" -> "wiki_page").
std::string kindPart(std::string_view text) {
  std::string part;
  part.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    part.push_back(std::isalnum(byte) != 0 && byte < 0x80 ? static_cast<char>(std::tolower(byte))
                                                          : '_');
  }
  return part;
}

// GitLab writes a missing revision (the `before` of a new branch or tag, the `after` of a
// deleted one) as forty zeros.
bool isNoRevision(std::string_view sha) {
  return !sha.empty() && sha.find_first_not_of('0') == std::string_view::npos;
}

std::string mergeRequestKind(const std::string& action) {
  if (action == "merge") return "pull_request.merged";
  if (action == "open") return "pull_request.opened";
  if (action == "close") return "pull_request.closed";  // without merge: GitLab says `merge`
  return "pull_request." + kindPart(action.empty() ? "unknown" : action);
}

void mergeRequest(const PayloadJson& json, Event& event) {
  std::string action = json.text("/object_attributes/action");
  if (action.empty()) {
    // Not sent by very old GitLab: the state the merge request is left in says what happened.
    const std::string state = json.text("/object_attributes/state");
    action = state == "merged"   ? "merge"
             : state == "opened" ? "open"
             : state == "closed" ? "close"
                                 : state;
  }
  event.kind = mergeRequestKind(action);
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
  event.tag = stripPrefix(ref, "refs/tags/").value_or(std::string(ref));
  event.author = json.firstText({"/user_username", "/user_name"});
  const std::string project_url = json.text("/project/web_url");
  if (isNoRevision(json.text("/after"))) {
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
  event.kind = "push";
  event.branch = stripPrefix(ref, "refs/heads/").value_or(ref);
  event.author = json.firstText({"/user_username", "/user_name"});
  const rapidjson::Value* commits = json.find("/commits");
  std::string last_commit_url;
  if (commits != nullptr && commits->IsArray()) {
    for (const auto& commit : commits->GetArray()) {
      if (!commit.IsObject()) continue;
      std::string url = PayloadJson::text(commit, "/url");
      if (!url.empty()) last_commit_url = url;
      std::string message = PayloadJson::text(commit, "/message");
      if (message.empty()) continue;  // nothing to name an issue in
      event.commits.push_back({PayloadJson::text(commit, "/id"), std::move(message), std::move(url),
                               PayloadJson::text(commit, "/author/name")});
    }
  }
  // The page of the whole push where GitLab has one (both ends exist), as GitHub's `compare`;
  // a new branch's push has no `before`: its newest commit's page; a deleted branch: the
  // project's.
  const std::string project_url = json.text("/project/web_url");
  const std::string before = json.text("/before");
  const std::string after = json.text("/after");
  if (!project_url.empty() && !before.empty() && !after.empty() && !isNoRevision(before) &&
      !isNoRevision(after)) {
    event.url = project_url + "/-/compare/" + before + "..." + after;
  } else if (!last_commit_url.empty()) {
    event.url = last_commit_url;
  } else {
    event.url = project_url;
  }
}

void release(const PayloadJson& json, Event& event) {
  const std::string action = json.text("/action");
  event.kind = action == "create"   ? "release.published"
               : action == "update" ? "release.updated"
               : action == "delete" ? "release.deleted"
                                    : "release." + kindPart(action.empty() ? "unknown" : action);
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
  std::string kind = kindPart(event_type);
  if (kind == "push" || kind == "tag" || kind == "release" || kind == "pull_request") {
    kind = "gitlab_" + kind;
  }
  const std::string action = json.text("/object_attributes/action");
  if (!action.empty()) kind += "." + kindPart(action);
  return kind;
}

}  // namespace

std::optional<std::string> GitLabProvider::repoPathProblem(std::string_view repo_path) const {
  // GitLab nests groups: gitlab-org/hello-world, acme/platform/payments/api. Each segment
  // non-empty, at least two.
  size_t segments = 0;
  size_t start = 0;
  while (true) {
    const size_t slash = repo_path.find('/', start);
    const size_t end = slash == std::string_view::npos ? repo_path.size() : slash;
    if (end == start) {
      segments = 0;  // an empty segment: a leading, trailing or doubled slash
      break;
    }
    ++segments;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (segments < 2) {
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
