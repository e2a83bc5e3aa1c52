#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "providers/event.hpp"
#include "providers/payload_json.hpp"

namespace conduit::providers {

// What several code hosts share, so that each provider says only what is its own.

// How many `/`-separated segments `path` has ("group/sub/project": 3), or 0 when one of them
// is empty (a leading, trailing or doubled slash). Repository paths are checked with it.
size_t pathSegments(std::string_view path);

// True for a commit id of zeros: the `before` of a new ref or the `after` of a deleted one in
// a push (git's null revision, SHA-1 or SHA-256 long).
bool isNullRevision(std::string_view sha);

// `text` as a part of an event kind: lower case, anything but an ASCII letter or digit as `_`,
// so that no header or payload value can spell a dot or another kind ("Wiki Page" ->
// "wiki_page", "comment:added" -> "comment_added").
std::string kindWord(std::string_view text);

// The kind of an event named `group:rest` (Bitbucket's event keys): "pull_request.<rest>" when
// the group is `pull_request_group` ("pullrequest", "pr"), else "<group>.<rest>", each part a
// kindWord: "pr:reviewer:approved" -> "pull_request.reviewer_approved".
std::string groupedKind(std::string_view event_key, std::string_view pull_request_group);

// True for the kinds event.hpp gives a meaning to (pull_request.merged, ..., release.published):
// a kind made from a made-up event name or key must never be one of them.
bool isMeaningfulKind(std::string_view kind);

// An event key that names a pull request's outcome, and the state the signed body must show.
struct PullRequestOutcome {
  std::string_view event_key;  // "pr:merged"
  std::string_view kind;       // "pull_request.merged"
  std::string_view state;      // "MERGED"
};

// The kind of a pull request event whose key is outside the signature (Bitbucket's
// X-Event-Key): the outcome's kind when the signed body's `state` agrees with it, else
// "pull_request.unconfirmed", so that a captured body resent under another key cannot merge
// anything. A key not among `outcomes` is a groupedKind(), and "pull_request.unconfirmed" too
// should it spell a meaningful kind ("pr:closed").
std::string pullRequestKind(std::initializer_list<PullRequestOutcome> outcomes,
                            std::string_view event_key, std::string_view state,
                            std::string_view pull_request_group);

// The commits of a push in the shape GitHub, Gitea, Forgejo and GitLab share: an array at
// `pointer` of {id, message, url, author: {name, username}}, in the array's order (GitHub and
// GitLab list the oldest first, Gitea the newest). Commits without a message are left out:
// there is nothing to name an issue in.
std::vector<Commit> commitsAt(const PayloadJson& json, const char* pointer);

}  // namespace conduit::providers
