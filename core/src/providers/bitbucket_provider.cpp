#include "providers/bitbucket_provider.hpp"

#include "providers/header_checks.hpp"
#include "providers/host_conventions.hpp"
#include "providers/payload_json.hpp"

namespace conduit::providers {
namespace {

// "pullrequest:comment_created" -> "pull_request.comment_created", "repo:fork" -> "repo.fork".
std::string kindOf(std::string_view event_key) {
  return groupedKind(event_key, "pullrequest");
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
  // X-Event-Key is outside the signature: the signed body's state has to agree with it.
  event.kind = pullRequestKind({{"pullrequest:fulfilled", "pull_request.merged", "MERGED"},
                                {"pullrequest:created", "pull_request.opened", "OPEN"},
                                {"pullrequest:rejected", "pull_request.closed", "DECLINED"}},
                               event_key, json.text("/pullrequest/state"), "pullrequest");
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

// A change that deleted its ref: no `new` state (and `closed: true`).
bool deletesRef(const rapidjson::Value& change) {
  const rapidjson::Value* ref = PayloadJson::find(change, "/new");
  return ref == nullptr || !ref->IsObject() || PayloadJson::flag(change, "/closed");
}

bool isTagRef(const rapidjson::Value& ref) {
  const std::string type = PayloadJson::text(ref, "/type");
  return type == "tag" || type == "annotated_tag";
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
  bool deleted_tag = false;
  bool deleted_branch = false;
  for (const auto& change : changes->GetArray()) {
    if (!change.IsObject()) continue;
    // A deleted branch or tag is pushed too: it names nothing to act on.
    if (deletesRef(change)) {
      const rapidjson::Value* old_ref = PayloadJson::find(change, "/old");
      const bool tag = old_ref != nullptr && old_ref->IsObject() && isTagRef(*old_ref);
      (tag ? deleted_tag : deleted_branch) = true;
      continue;
    }
    const rapidjson::Value& ref = change["new"];
    const std::string name = PayloadJson::text(ref, "/name");
    if (isTagRef(ref)) {
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
  if (!event.branch.empty()) {
    event.kind = "push";
  } else if (!first_tag.empty()) {
    event.kind = "tag";
    event.tag = std::move(first_tag);
    event.url = std::move(first_tag_url);
  } else if (deleted_tag || deleted_branch) {
    event.kind = deleted_tag ? "tag.deleted" : "push.deleted";  // only deletions: no trigger
  } else {
    event.kind = "push";
  }
}

}  // namespace

std::optional<std::string> BitbucketProvider::repoPathProblem(std::string_view repo_path) const {
  if (pathSegments(repo_path) != 2) {
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
  // Bitbucket Data Center sends X-Event-Key too, with its X-Request-Id and neither of Cloud's
  // ids. A request with none of them is still Cloud's to refuse for what it lacks.
  return firstHeader(headers, {"X-Event-Key"}) &&
         (firstHeader(headers, {"X-Request-UUID", "X-Hook-UUID"}) ||
          !firstHeader(headers, {"X-Request-Id"}));
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
    // A made-up key without a group ("push", "tag") must not read as a meaningful kind.
    if (isMeaningfulKind(event.kind)) event.kind = "unconfirmed." + event.kind;
  }
  return event;
}

}  // namespace conduit::providers
