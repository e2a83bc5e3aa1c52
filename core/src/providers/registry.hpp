#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.hpp"

namespace conduit::providers {

// Every code host Conduit knows, in the order the docs and error messages list them. One line
// per host in registry.cpp.
const std::vector<const Provider*>& allProviders();

// The provider called `name`, or nullptr when Conduit does not know it.
const Provider* findProvider(std::string_view name);

// The names of every known provider, for error messages: "github, gitlab, ...".
std::vector<std::string_view> providerNames();

// Why `repo_path` cannot be the path of a repository of `provider`: the generic rules (1 to 256
// bytes, no spaces or control characters) and then the host's own shape. nullopt when it can.
// The message follows the field's name: "must be owner/repo, ...".
std::optional<std::string> repoPathProblem(const Provider& provider, std::string_view repo_path);

// The provider, other than `own`, that recognizes the request as its own: a delivery of another
// host sent to a hook of `own`'s. nullptr when there is none, or `own` recognizes it too.
const Provider* foreignSender(const Provider& own, const HeaderLookup& headers);

// The Event of a delivery, as `provider` normalizes it, with `host` set to its title.
std::optional<Event> normalize(const Provider& provider, std::string_view event_type,
                               std::string_view payload, std::string& error);

}  // namespace conduit::providers
