#pragma once

#include <string>
#include <vector>

namespace conduit::providers {

// One commit of a push, as the host describes it. Any field the host does not send is empty.
struct Commit {
  std::string id;       // the full commit id (SHA)
  std::string message;  // the whole message, title and body
  std::string url;      // its web page
  std::string author;   // the author's name, or login where the host sends no name
};

// A code host's delivery reduced to what processors need, whatever the host: the C++ side of
// the plugin ABI's conduit_event. Fields that do not apply to the kind, or that the host does
// not send, are empty.
//
// The kinds every host's payloads become (docs/http-api.md has the table per host):
//   pull_request.merged   a pull or merge request merged
//   pull_request.opened   one opened
//   pull_request.closed   one closed without merge
//   push                  commits pushed to a branch
//   tag                   a tag pushed
//   release.published     a release published (GitLab: created)
// and otherwise "<event>.<action>" or "<event>" as the host names them, which no trigger of
// the shipped examples uses.
struct Event {
  std::string kind;
  std::string host;             // the host as people call it: "GitLab" (Provider::title())
  std::string repository;       // the repository's full path as the payload names it
  std::string number;           // pull or merge request: its number in the repository ("12")
  std::string reference;        // how the host writes it: "pull request #12", "merge request !12"
  std::string title;            // pull or merge request title
  std::string body;             // pull request body, merge request description
  std::string branch;           // pull request: its source (head) branch; push: the pushed branch
  std::string target_branch;    // pull request: the branch it merges into
  std::vector<Commit> commits;  // push: oldest first (as many as the host sends)
  std::string tag;              // release: its tag; tag: the tag pushed
  std::string release_name;
  std::string release_body;
  std::string released_at;  // release: when it was published, as the host wrote it (RFC 3339;
                            // GitLab: "2021-02-25 21:23:34 UTC")
  std::string url;          // the web page of the pull request, release, push or tag
  std::string author;       // who merged, published or pushed (before a merge: who acted)
};

}  // namespace conduit::providers
