#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "providers/event.hpp"

namespace conduit::providers {

// Reduces a GitHub delivery (its X-GitHub-Event and JSON payload) to an Event:
// - pull_request: "pull_request.merged" for `closed` with `merged: true`, "pull_request.closed"
//   without it, "pull_request.<action>" otherwise; title, body, head branch, page, and who merged
//   (or, before a merge, who acted);
// - release: "release.<action>" (GitHub sends created, published and released for one release);
//   name, body, page, author;
// - push: "push"; the commit messages, the branch (refs/heads/ dropped), the compare page, the
//   pusher;
// - anything else: "<event>.<action>", or "<event>" without an action, with no fields.
// nullopt with `error` set when the payload is not a JSON object.
std::optional<Event> normalizeGitHubEvent(std::string_view event_type, std::string_view payload,
                                          std::string& error);

}  // namespace conduit::providers
