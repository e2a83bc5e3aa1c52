#include "providers/bitbucket_server_provider.hpp"

#include "providers/header_checks.hpp"
#include "providers/host_conventions.hpp"
#include "providers/payload_json.hpp"

namespace conduit::providers {
namespace {

// "pr:reviewer:approved" -> "pull_request.reviewer_approved", "repo:comment:added" ->
// "repo.comment_added".
std::string kindOf(std::string_view event_key) {
  return groupedKind(event_key, "pr");
}

// PROJECT/repo of a repository object ("~USER/repo" for a personal one: its project's key).
std::string repositoryPath(const rapidjson::Value& repository) {
  const std::string project = PayloadJson::text(repository, "/project/key");
  const std::string slug = PayloadJson::text(repository, "/slug");
  if (project.empty() || slug.empty()) return {};
  return project + "/" + slug;
}

// The user name (the login), else the name the user shows.
std::string actorName(const PayloadJson& json) {
  return json.firstText({"/actor/name", "/actor/slug", "/actor/displayName"});
}

void pullRequest(const PayloadJson& json, std::string_view event_key, Event& event) {
  // X-Event-Key is outside the signature: the signed body's state has to agree with it.
  event.kind = pullRequestKind({{"pr:merged", "pull_request.merged", "MERGED"},
                                {"pr:opened", "pull_request.opened", "OPEN"},
                                {"pr:declined", "pull_request.closed", "DECLINED"}},
                               event_key, json.text("/pullRequest/state"), "pr");
  event.number = json.text("/pullRequest/id");
  if (!event.number.empty()) event.reference = "pull request #" + event.number;
  event.title = json.text("/pullRequest/title");
  event.body = json.text("/pullRequest/description");
  event.branch = json.text("/pullRequest/fromRef/displayId");
  event.target_branch = json.text("/pullRequest/toRef/displayId");
  event.url = json.text("/pullRequest/links/self/0/href");
  event.author = actorName(json);
  if (const rapidjson::Value* repository = json.find("/pullRequest/toRef/repository")) {
    event.repository = repositoryPath(*repository);
  }
}

// The classic push event: the refs moved (BRANCH or TAG, with their hashes) and no commits.
void refsChanged(const PayloadJson& json, Event& event) {
  event.author = actorName(json);
  event.url = json.text("/repository/links/self/0/href");
  std::string first_tag;
  bool deleted_tag = false;
  bool deleted_branch = false;
  if (const rapidjson::Value* changes = json.find("/changes"); changes && changes->IsArray()) {
    for (const auto& change : changes->GetArray()) {
      if (!change.IsObject()) continue;
      const std::string type = PayloadJson::text(change, "/ref/type");
      const std::string ref = PayloadJson::firstText(change, {"/ref/id", "/refId"});
      const bool tag = type == "TAG" || (type.empty() && ref.rfind("refs/tags/", 0) == 0);
      // A deleted branch or tag is a change too (`type: DELETE`, `toHash` all zeros): it names
      // nothing to act on.
      if (PayloadJson::text(change, "/type") == "DELETE" ||
          isNullRevision(PayloadJson::text(change, "/toHash"))) {
        (tag ? deleted_tag : deleted_branch) = true;
        continue;
      }
      std::string name = PayloadJson::text(change, "/ref/displayId");
      if (tag) {
        if (first_tag.empty())
          first_tag = name.empty() ? stripPrefix(ref, "refs/tags/").value_or(ref) : name;
        continue;
      }
      if (event.branch.empty()) {
        event.branch = name.empty() ? stripPrefix(ref, "refs/heads/").value_or(ref) : name;
      }
    }
  }
  if (!event.branch.empty()) {
    event.kind = "push";
  } else if (!first_tag.empty()) {
    event.kind = "tag";
    event.tag = std::move(first_tag);
  } else if (deleted_tag || deleted_branch) {
    event.kind = deleted_tag ? "tag.deleted" : "push.deleted";  // only deletions: no trigger
  } else {
    event.kind = "push";
  }
}

}  // namespace

std::optional<std::string> BitbucketServerProvider::repoPathProblem(
    std::string_view repo_path) const {
  const bool personal_without_user = repo_path.substr(0, 2) == "~/";
  if (pathSegments(repo_path) != 2 || personal_without_user) {
    return "must be PROJECT/repo (or ~user/repo for a personal repository), as in Bitbucket "
           "Data Center's address of the repository (/projects/PROJECT/repos/repo)";
  }
  return std::nullopt;
}

const HeaderNames& BitbucketServerProvider::headerNames() const {
  static const HeaderNames names{"X-Hub-Signature", "sha256= and 64 hex characters", "X-Event-Key",
                                 "X-Request-Id"};
  return names;
}

bool BitbucketServerProvider::recognizes(const HeaderLookup& headers) const {
  // Bitbucket Cloud's deliveries carry X-Event-Key too, with its own X-Request-UUID and
  // X-Hook-UUID: those are Cloud's, whatever else they carry. A request without X-Request-Id
  // is still Data Center's to refuse for lacking it.
  return firstHeader(headers, {"X-Event-Key"}) &&
         !firstHeader(headers, {"X-Request-UUID", "X-Hook-UUID"});
}

SignatureStatus BitbucketServerProvider::authenticate(const HeaderLookup& headers,
                                                      std::string_view body,
                                                      std::string_view secret) const {
  return checkHexHmacSha256(headers("X-Hub-Signature"), "sha256=", body, secret);
}

std::optional<std::string_view> BitbucketServerProvider::eventType(
    const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Event-Key"});
}

std::optional<std::string_view> BitbucketServerProvider::deliveryId(
    const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Request-Id"});
}

const std::vector<std::string_view>& BitbucketServerProvider::knownEvents() const {
  static const std::vector<std::string_view> events = {"diagnostics:ping",
                                                       "mirror:repo_synchronized",
                                                       "pr:comment:added",
                                                       "pr:comment:deleted",
                                                       "pr:comment:edited",
                                                       "pr:declined",
                                                       "pr:deleted",
                                                       "pr:from_ref_updated",
                                                       "pr:merged",
                                                       "pr:modified",
                                                       "pr:opened",
                                                       "pr:reviewer:approved",
                                                       "pr:reviewer:needs_work",
                                                       "pr:reviewer:unapproved",
                                                       "pr:reviewer:updated",
                                                       "project:modified",
                                                       "repo:comment:added",
                                                       "repo:comment:deleted",
                                                       "repo:comment:edited",
                                                       "repo:forked",
                                                       "repo:modified",
                                                       "repo:refs_changed",
                                                       "repo:secret_detected"};
  return events;
}

std::optional<Event> BitbucketServerProvider::normalize(std::string_view event_type,
                                                        std::string_view payload,
                                                        std::string& error) const {
  auto json = PayloadJson::parse(payload, error);
  if (!json) return std::nullopt;
  Event event;
  if (const rapidjson::Value* repository = json->find("/repository")) {
    event.repository = repositoryPath(*repository);
  }
  if (event_type.substr(0, 3) == "pr:") {
    pullRequest(*json, event_type, event);
  } else if (event_type == "repo:refs_changed") {
    refsChanged(*json, event);
  } else {
    event.kind = kindOf(event_type);
    // A made-up key without a group ("push", "tag") must not read as a meaningful kind.
    if (isMeaningfulKind(event.kind)) event.kind = "unconfirmed." + event.kind;
  }
  return event;
}

}  // namespace conduit::providers
