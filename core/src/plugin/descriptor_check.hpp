#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <conduit/plugin.h>

namespace conduit::plugin {

// Why a plugin's descriptor cannot be used by this host, or nullopt when it can: the ABI major
// is this host's, the minor not above it, the struct's size consistent with them, every
// required function present, and the name the one asked for (`<name>` of `<name>.so`). Each
// message names the failed check. Plain C++, so that tests check descriptors without any .so.
std::optional<std::string> checkDescriptor(const conduit_plugin_descriptor* descriptor,
                                           std::string_view expected_name);

}  // namespace conduit::plugin
