#include "providers/gitea_provider.hpp"

#include <algorithm>

#include "providers/header_checks.hpp"
#include "providers/host_conventions.hpp"
#include "providers/payload.hpp"
#include "providers/payload_json.hpp"

namespace conduit::providers {
namespace {

// `text` percent-encoded for a URL path, keeping its slashes: tag names may hold `#`, `%`, `?`.
std::string pathEscaped(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

void pullRequest(const PayloadJson& json, const std::string& action, Event& event) {
  const bool merged = action == "closed" && json.flag("/pull_request/merged");
  event.kind = merged ? "pull_request.merged" : "pull_request." + action;
  event.number = json.firstText({"/pull_request/number", "/number"});
  if (!event.number.empty()) event.reference = "pull request #" + event.number;
  event.title = json.text("/pull_request/title");
  event.body = json.text("/pull_request/body");
  event.branch = json.text("/pull_request/head/ref");
  event.target_branch = json.text("/pull_request/base/ref");
  event.url = json.text("/pull_request/html_url");
  event.author = merged ? json.text("/pull_request/merged_by/login") : std::string();
  if (event.author.empty()) event.author = json.firstText({"/sender/login", "/sender/username"});
}

void release(const PayloadJson& json, const std::string& action, Event& event) {
  event.kind = "release." + action;
  event.release_name = json.text("/release/name");
  event.release_body = json.text("/release/body");
  event.tag = json.text("/release/tag_name");
  event.released_at = json.text("/release/published_at");
  event.url = json.text("/release/html_url");
  event.author = json.firstText(
      {"/release/author/login", "/release/author/username", "/sender/login", "/sender/username"});
}

void push(const PayloadJson& json, Event& event) {
  const std::string ref = json.text("/ref");
  const std::string before = json.text("/before");
  const std::string after = json.text("/after");
  event.author =
      json.firstText({"/pusher/login", "/pusher/username", "/sender/login", "/sender/username"});
  if (auto tag = stripPrefix(ref, "refs/tags/")) {
    event.tag = std::move(*tag);
    if (isNullRevision(after)) {
      event.kind = "tag.deleted";
      return;
    }
    event.kind = "tag";
    // The compare page of a new tag compares with nothing; the tree at the tag is its page.
    const std::string repository_page = json.text("/repository/html_url");
    event.url = repository_page.empty() ? json.text("/compare_url")
                                        : repository_page + "/src/tag/" + pathEscaped(event.tag);
    return;
  }
  event.branch = stripPrefix(ref, "refs/heads/").value_or(ref);
  event.url = json.text("/compare_url");
  if (!before.empty() && before == after) {
    event.kind = "push.test";  // "Test delivery": nothing was pushed
  } else if (isNullRevision(after)) {
    event.kind = "push.deleted";
    return;
  } else {
    event.kind = "push";
  }
  // Gitea lists a push's commits newest first (go-gitea/gitea#21252); events carry the oldest
  // first, as every other host's.
  event.commits = commitsAt(json, "/commits");
  std::reverse(event.commits.begin(), event.commits.end());
}

}  // namespace

// ---- What Gitea and Forgejo share ----

std::optional<std::string> GiteaFamilyProvider::repoPathProblem(std::string_view repo_path) const {
  // Owners are users or organizations, with no subgroups.
  if (pathSegments(repo_path) != 2) {
    return "must be owner/repo, as in " + std::string(title()) + "'s address of the repository";
  }
  return std::nullopt;
}

SignatureStatus GiteaFamilyProvider::checkSignature(std::optional<std::string_view> signature,
                                                    const HeaderLookup& headers,
                                                    std::string_view body,
                                                    std::string_view secret) {
  const SignatureStatus status = checkHexHmacSha256(signature, "", body, secret);
  if (status != SignatureStatus::kMismatch) return status;
  const auto content_type = headers("Content-Type");
  if (!content_type || bodyEncoding(*content_type) != BodyEncoding::kForm) return status;
  const auto payload = formPayloadField(body);
  if (!payload) return status;
  return checkHexHmacSha256(signature, "", *payload, secret);
}

std::optional<Event> GiteaFamilyProvider::normalize(std::string_view event_type,
                                                    std::string_view payload,
                                                    std::string& error) const {
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

// ---- Gitea ----

const HeaderNames& GiteaProvider::headerNames() const {
  static const HeaderNames names{"X-Gitea-Signature", "64 hex characters (no prefix)",
                                 "X-Gitea-Event", "X-Gitea-Delivery"};
  return names;
}

bool GiteaProvider::recognizes(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Gitea-Event"}) && !firstHeader(headers, {"X-Forgejo-Event"});
}

SignatureStatus GiteaProvider::authenticate(const HeaderLookup& headers, std::string_view body,
                                            std::string_view secret) const {
  return checkSignature(headers("X-Gitea-Signature"), headers, body, secret);
}

std::optional<std::string_view> GiteaProvider::eventType(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Gitea-Event"});
}

std::optional<std::string_view> GiteaProvider::deliveryId(const HeaderLookup& headers) const {
  return firstHeader(headers, {"X-Gitea-Delivery"});
}

const std::vector<std::string_view>& GiteaProvider::knownEvents() const {
  // X-Gitea-Event's values: several event types of the settings page share one (issue_assign
  // is sent as issues, pull_request_sync as pull_request).
  static const std::vector<std::string_view> events = {"create",
                                                       "delete",
                                                       "fork",
                                                       "issue_comment",
                                                       "issues",
                                                       "package",
                                                       "pull_request",
                                                       "pull_request_approved",
                                                       "pull_request_comment",
                                                       "pull_request_rejected",
                                                       "push",
                                                       "release",
                                                       "repository",
                                                       "status",
                                                       "wiki",
                                                       "workflow_job",
                                                       "workflow_run"};
  return events;
}

}  // namespace conduit::providers
