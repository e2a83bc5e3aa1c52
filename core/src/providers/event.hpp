#pragma once

#include <string>
#include <vector>

namespace conduit::providers {

// A code host's delivery reduced to what processors need, whatever the host: the C++ side of
// the plugin ABI's conduit_event. Fields that do not apply to the kind are empty.
struct Event {
  std::string kind;    // "pull_request.merged", "pull_request.opened", "pull_request.closed",
                       // "release.published", "push", or "<event>.<action>" / "<event>"
  std::string title;   // pull request title
  std::string body;    // pull request body
  std::string branch;  // pull request head branch, or the pushed branch
  std::vector<std::string> commit_messages;  // push, oldest first
  std::string release_name;
  std::string release_body;
  std::string url;     // the web page of the pull request, release or push
  std::string author;  // who merged, published or pushed
};

}  // namespace conduit::providers
