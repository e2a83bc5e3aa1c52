#include "remote_links.hpp"

#include <algorithm>
#include <cctype>

#include "issue_keys.hpp"

namespace conduit::jira {
namespace {

// Jira keeps a remote link's title in 255 characters.
constexpr size_t kMaxTitleBytes = 255;

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// `text` cut to at most `max` bytes, at a UTF-8 character's start, with "..." when cut.
std::string shortened(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t end = max - 3;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80)
    --end;
  return std::string(text.substr(0, end)) + "...";
}

std::string firstLine(std::string_view message) {
  const size_t end = message.find_first_of("\r\n");
  return std::string(message.substr(0, end));
}

// Whether `url` is a page a link may point to: http(s) only. The URL comes from the payload, and
// Jira shows a link's URL as a link: a `javascript:` one would run in the reader's browser.
bool isWebAddress(std::string_view url) {
  auto lower = [](std::string_view text) {
    std::string out(text);
    for (char& c : out)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string head = lower(url.substr(0, 8));
  return startsWith(head, "https://") || startsWith(head, "http://");
}

// The origin of a URL: https://github.com for https://github.com/org/repo/pull/12.
std::string originOf(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const size_t path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

// The parts of a link an event's every link shares: where it points from, and the host's name.
RemoteLink linkOf(const sdk::Event& event, std::string_view url, std::string title,
                  std::string relationship) {
  RemoteLink link;
  link.global_id = std::string(url);
  link.url = std::string(url);
  link.title = shortened(title, kMaxTitleBytes);
  link.relationship = std::move(relationship);
  const std::string host =
      event.hostName().empty() ? std::string(event.provider()) : std::string(event.hostName());
  const std::string_view repo = event.repository().empty() ? event.repoPath() : event.repository();
  link.summary = std::string(repo) + (host.empty() ? "" : " on " + host);
  link.application_name = host;
  // One application per host, so that Jira groups the links of each (GitHub, GitLab...).
  link.application_type = host.empty() ? "conduit" : "conduit.";
  for (char c : host) {
    link.application_type +=
        std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  }
  if (const std::string origin = originOf(url); !origin.empty()) {
    link.icon_url = origin + "/favicon.ico";
    link.icon_title = host;
  }
  return link;
}

// "PR #12", "MR !12": the change as its host writes it, shortened as people say it.
std::string changeOf(const sdk::Event& event) {
  const std::string_view reference = event.reference();
  if (startsWith(reference, "merge request ")) return "MR " + std::string(reference.substr(14));
  if (startsWith(reference, "pull request ")) return "PR " + std::string(reference.substr(13));
  if (!reference.empty()) return std::string(reference);
  if (!event.number().empty()) return "PR #" + std::string(event.number());
  return "PR";
}

}  // namespace

std::vector<RemoteLink> linksFor(const std::string& key, const sdk::Event& event,
                                 const std::set<std::string>& projects,
                                 JiraSettings::KeyCase key_case) {
  const std::string_view kind = event.kind();
  std::vector<RemoteLink> links;
  if (startsWith(kind, "pull_request.")) {
    if (!isWebAddress(event.url())) return links;
    const bool merged = kind == "pull_request.merged";
    const bool closed = kind == "pull_request.closed";
    const std::string state = merged ? "merged" : closed ? "closed" : "open";
    const std::string title = changeOf(event) +
                              (event.title().empty() ? "" : ": " + std::string(event.title())) +
                              " (" + state + ")";
    const bool merge_request = startsWith(event.reference(), "merge request");
    RemoteLink link =
        linkOf(event, event.url(), title, merge_request ? "merge request" : "pull request");
    link.resolved = merged || closed;
    links.push_back(std::move(link));
  } else if (startsWith(kind, "release.")) {
    if (!isWebAddress(event.url())) return links;
    const std::string_view tag = event.tag();
    const std::string_view name = event.releaseName();
    std::string title = "Release " + std::string(tag.empty() ? name : tag);
    if (!tag.empty() && !name.empty() && name != tag) title += ": " + std::string(name);
    links.push_back(linkOf(event, event.url(), title, "release"));
  } else if (kind == "push") {
    for (const auto& commit : event.commits()) {
      if (!isWebAddress(commit.url)) continue;
      // Keys in any case are keys in upper case with the same letters and digits around them.
      std::string message(commit.message);
      if (key_case == JiraSettings::KeyCase::kInsensitive) {
        std::transform(message.begin(), message.end(), message.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      }
      const auto named = findIssueKeys({message}, projects);
      if (std::find(named.keys.begin(), named.keys.end(), key) == named.keys.end()) continue;
      const std::string id(commit.id.substr(0, 7));
      const std::string title =
          "Commit" + (id.empty() ? "" : " " + id) + ": " + firstLine(commit.message);
      RemoteLink link = linkOf(event, commit.url, title, "commit");
      link.commit = std::string(commit.id.empty() ? commit.url : commit.id);
      links.push_back(std::move(link));
    }
  }
  return links;
}

RemoteLinks::RemoteLinks(const sdk::Host& host, JiraClient& client, const JiraSettings& settings)
    : host_(host), client_(client), settings_(settings) {}

bool RemoteLinks::appliesTo(const sdk::Event& event) const {
  if (!settings_.link) return false;
  const std::string_view kind = event.kind();
  return kind == "pull_request.opened" || kind == "pull_request.merged" ||
         kind == "pull_request.closed" || kind == "release.published" || kind == "push";
}

IssueOutcome RemoteLinks::forIssue(const std::string& key, const sdk::Event& event,
                                   sdk::Delivery& delivery) const {
  if (!appliesTo(event)) return {};
  try {
    const auto links = linksFor(key, event, settings_.projects, settings_.key_case);
    if (links.empty()) {
      host_.debug(key + ": " + std::string(event.kind()) + " has no URL to link to");
      return {};
    }
    for (const auto& link : links) {
      // A commit's checkpoint names it: a push links one issue to several. Checkpoint keys
      // have at most 256 bytes: a long URL (no commit id from the host) keeps its end.
      std::string checkpoint = "link:" + key;
      if (link.relationship == "commit") checkpoint += ":" + link.commit;
      if (checkpoint.size() > 256) checkpoint = checkpoint.substr(checkpoint.size() - 256);
      if (delivery.get(checkpoint)) continue;
      if (settings_.dry_run) {
        host_.info("dry run: would link " + key + " to " + link.url + " (\"" + link.title + "\")");
        host_.report(delivery, "skipped",
                     {{"issue", key}, {"reason", "dry run: would link it to " + link.url}});
        continue;
      }
      auto outcome =
          withShortWaits(client_, [&] { return linkOnce(key, link, checkpoint, delivery); });
      if (outcome.kind == IssueOutcome::Kind::kDone) continue;
      if (outcome.kind == IssueOutcome::Kind::kRetry) host_.count("jira.retries");
      if (outcome.kind == IssueOutcome::Kind::kFailed) {
        host_.warn(outcome.message);
        host_.count("jira.failed");
        host_.report(delivery, "failed", {{"issue", key}, {"reason", outcome.message}});
      }
      return outcome;
    }
    return {};
  } catch (const sdk::HostError& e) {
    return {IssueOutcome::Kind::kRetry, key + ": link: " + e.what(), {}};
  }
}

IssueOutcome RemoteLinks::linkOnce(const std::string& key, const RemoteLink& link,
                                   const std::string& checkpoint, sdk::Delivery& delivery) const {
  auto answer = client_.remoteLink(key, link);
  if (auto* failure = std::get_if<JiraFailure>(&answer)) {
    // A lost answer needs no check: the next post of the same global id updates the link.
    auto outcome = outcomeOf(key, *failure);
    if (outcome.kind == IssueOutcome::Kind::kCredentialsRefused) {
      outcome.message += " (remote links need the \"Link issues\" project permission)";
    }
    return outcome;
  }
  delivery.put(checkpoint, link.url.substr(0, 4096));
  const bool created = std::get<bool>(answer);
  host_.info(key + (created ? ": linked to " : ": link updated to ") + link.url + " (\"" +
             link.title + "\")");
  host_.count("jira.links");
  host_.report(delivery, "linked", {{"issue", key}, {"url", link.url}});
  return {};
}

}  // namespace conduit::jira
