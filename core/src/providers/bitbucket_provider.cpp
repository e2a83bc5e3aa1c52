#include "providers/bitbucket_provider.hpp"

#include <algorithm>
#include <cctype>

#include "providers/header_checks.hpp"
#include "providers/payload_json.hpp"

namespace conduit::providers {
namespace {

// "pullrequest:comment_created" -> "pull_request.comment_created", "repo:fork" -> "repo.fork":
// the event's group and the rest, with ':' and '-' as '_', in lower case.
std::string kindOf(std::string_view event_key) {
  const size_t colon = event_key.find(':');
  std::string group(event_key.substr(0, colon));
  std::string rest(colon == std::string_view::npos ? "" : event_key.substr(colon + 1));
  if (group == "pullrequest") group = "pull_request";
  std::string kind = rest.empty() ? group : group + "." + rest;
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) {
    return c == ':' || c == '-' ? '_' : static_cast<char>(std::tolower(c));
  });
  return kind;
}

// Who acted: the account's nickname (Bitbucket Cloud has sent no `username` since 2019, but
// older payloads do), else the name it shows.
std::string accountName(const rapidjson::Value& from, const char* nickname, const char* username,
                        const char* display_name) {
  return PayloadJson::firstText(from, {nickname, username, display_name});
}

// A commit author's name: the Bitbucket account's display name, else the name of the git
// author line ("Ann Lee <ann@example.com>"), without the address, which has no place in a
// comment.
std::string commitAuthor(const rapidjson::Value& commit) {
  std::string name = PayloadJson::text(commit, "/author/user/display_name");
  if (!name.empty()) return name;
  std::string raw = PayloadJson::text(commit, "/author/raw");
  const size_t address = raw.find(" <");
  if (address != std::string::npos && address > 0) raw.resize(address);
  if (!raw.empty()) return raw;
  return PayloadJson::text(commit, "/author/user/nickname");
}

void pullRequest(const PayloadJson& json, std::string_view event_key, Event& event) {
  if (event_key == "pullrequest:fulfilled") {
    event.kind = "pull_request.merged";
  } else if (event_key == "pullrequest:created") {
    event.kind = "pull_request.opened";
  } else if (event_key == "pullrequest:rejected") {
    event.kind = "pull_request.closed";  // declined: closed without merge
  } else {
    event.kind = kindOf(event_key);
  }
  event.number = json.text("/pullrequest/id");
  if (!event.number.empty()) event.reference = "pull request #" + event.number;
  event.title = json.text("/pullrequest/title");
  event.body = json.firstText({"/pullrequest/description", "/pullrequest/summary/raw"});
  event.branch = json.text("/pullrequest/source/branch/name");
  event.target_branch = json.text("/pullrequest/destination/branch/name");
  event.url = json.text("/pullrequest/links/html/href");
  event.author =
      accountName(json.root(), "/actor/nickname", "/actor/username", "/actor/display_name");
  if (event.author.empty()) {
    event.author =
        accountName(json.root(), "/pullrequest/closed_by/nickname",
                    "/pullrequest/closed_by/username", "/pullrequest/closed_by/display_name");
  }
}

// The ref a change moved: its new state, or the old one when the ref was deleted.
const rapidjson::Value* changedRef(const rapidjson::Value& change) {
  const rapidjson::Value* ref = PayloadJson::find(change, "/new");
  if (ref != nullptr && ref->IsObject()) return ref;
  ref = PayloadJson::find(change, "/old");
  return ref != nullptr && ref->IsObject() ? ref : nullptr;
}

std::string changeUrl(const rapidjson::Value& change) {
  return PayloadJson::firstText(change, {"/links/html/href", "/new/links/html/href"});
}

// Bitbucket Cloud's push: one change per ref moved, each with (at most 5 of) its new commits,
// newest first. Branches ("branch"; "named_branch" in Mercurial days) make it a push; a push of
// tags only is a tag.
void push(const PayloadJson& json, Event& event) {
  event.author =
      accountName(json.root(), "/actor/nickname", "/actor/username", "/actor/display_name");
  const rapidjson::Value* changes = json.find("/push/changes");
  if (changes == nullptr || !changes->IsArray()) {
    event.kind = "push";
    return;
  }
  std::string first_tag;
  std::string first_tag_url;
  for (const auto& change : changes->GetArray()) {
    if (!change.IsObject()) continue;
    const rapidjson::Value* ref = changedRef(change);
    if (ref == nullptr) continue;
    const std::string type = PayloadJson::text(*ref, "/type");
    const std::string name = PayloadJson::text(*ref, "/name");
    if (type == "tag" || type == "annotated_tag") {
      if (first_tag.empty()) {
        first_tag = name;
        first_tag_url = changeUrl(change);
      }
      continue;
    }
    if (event.branch.empty()) {
      event.branch = name;
      event.url = changeUrl(change);
    }
    const rapidjson::Value* commits = PayloadJson::find(change, "/commits");
    if (commits == nullptr || !commits->IsArray()) continue;
    const auto list = commits->GetArray();
    for (auto commit = list.end(); commit != list.begin();) {  // oldest first
      --commit;
      if (!commit->IsObject()) continue;
      std::string message = PayloadJson::text(*commit, "/message");
      if (message.empty()) continue;  // nothing to name an issue in
      event.commits.push_back({PayloadJson::text(*commit, "/hash"), std::move(message),
                               PayloadJson::text(*commit, "/links/html/href"),
                               commitAuthor(*commit)});
    }
  }
  if (event.branch.empty() && !first_tag.empty()) {
    event.kind = "tag";
    event.tag = std::move(first_tag);
    event.url = std::move(first_tag_url);
    return;
  }
  event.kind = "push";
}

}  // namespace

std::optional<std::string> BitbucketProvider::repoPathProblem(std::string_view repo_path) const {
  const size_t slash = repo_path.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == repo_path.size() ||
      repo_path.find('/', slash + 1) != std::string_view::npos) {
    return "must be workspace/repo_slug, as in Bitbucket Cloud's address of the repository "
           "(bitbucket.org/workspace/repo_slug)";
  }
  return std::nullopt;
}

const HeaderNames& BitbucketProvider::headerNames() const {
  static const HeaderNames names{"X-Hub-Signature", "sha256= and 64 hex characters", "X-Event-Key",
                                 "X-Request-UUID"};
  return names;
}

bool BitbucketProvider::recognizes(const HeaderLookup& headers) const {
  // Bitbucket Data Center sends X-Event-Key too, but neither of these.
  return firstHeader(headers, {"X-Event-Key"}) &&
         firstHeader(headers, {"X-Request-UUID", "X-Hook-UUID"});
}

SignatureStatus BitbucketProvider::authenticate(const HeaderLookup& headers, std::string_view body,
                                                std::string_view secret) const {
  return checkHexHmacSha256(headers("X-Hub-Signature"), "sha256=", body, secret);
}

std::optional<std::string_view> BitbucketProvider::eventType(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Event-Key"});
}

std::optional<std::string_view> BitbucketProvider::deliveryId(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Request-UUID"});
}

const std::vector<std::string_view>& BitbucketProvider::knownEvents() const {
  static const std::vector<std::string_view> events = {"issue:comment_created",
                                                       "issue:created",
                                                       "issue:updated",
                                                       "pullrequest:approved",
                                                       "pullrequest:changes_request_created",
                                                       "pullrequest:changes_request_removed",
                                                       "pullrequest:comment_created",
                                                       "pullrequest:comment_deleted",
                                                       "pullrequest:comment_reopened",
                                                       "pullrequest:comment_resolved",
                                                       "pullrequest:comment_updated",
                                                       "pullrequest:created",
                                                       "pullrequest:fulfilled",
                                                       "pullrequest:rejected",
                                                       "pullrequest:unapproved",
                                                       "pullrequest:updated",
                                                       "repo:commit_comment_created",
                                                       "repo:commit_status_created",
                                                       "repo:commit_status_updated",
                                                       "repo:created",
                                                       "repo:deleted",
                                                       "repo:fork",
                                                       "repo:imported",
                                                       "repo:push",
                                                       "repo:transfer",
                                                       "repo:updated"};
  return events;
}

std::optional<Event> BitbucketProvider::normalize(std::string_view event_type,
                                                  std::string_view payload,
                                                  std::string& error) const {
  auto json = PayloadJson::parse(payload, error);
  if (!json) return std::nullopt;
  Event event;
  event.repository = json->text("/repository/full_name");
  if (event_type.substr(0, 12) == "pullrequest:") {
    pullRequest(*json, event_type, event);
  } else if (event_type == "repo:push") {
    push(*json, event);
  } else {
    event.kind = kindOf(event_type);
  }
  return event;
}

}  // namespace conduit::providers
