#pragma once

#include <string>
#include <string_view>

namespace conduit::store {

// A registered webhook: one repository of one code host. Its secret is kept apart, and is
// never part of this struct, so that no route can show it by accident.
struct Hook {
  std::string provider;   // "github"
  std::string repo_id;    // the path segment of the payload route: [A-Za-z0-9._-]{1,100}
  std::string repo_path;  // "org/repo", for people and processors
};

// A repo id as the payload route's path carries it: 1 to 100 of [A-Za-z0-9._-].
bool isValidRepoId(std::string_view repo_id);

// Why `secret` cannot be imported, or "" when it can: 1 to 1024 bytes, no control characters,
// no space at either end (a code host never sends such a secret back: HTTP drops the spaces
// around a header's value, GitLab the line breaks of its token, so it could never match).
std::string importedSecretProblem(std::string_view secret);

// The Redis keys of the hook registry. They are the original service's, so hooks it
// registered in the same Redis keep working.
std::string providerSetKey(std::string_view provider);                     // providers::<p>
std::string hookKey(std::string_view provider, std::string_view repo_id);  // secrets::<p>::<id>

}  // namespace conduit::store
