#include "plugin/descriptor_check.hpp"

#include <cstddef>

#include <fmt/format.h>

namespace conduit::plugin {
namespace {

// The size of the descriptor as ABI 1.0 defined it: its last field is destroy. For the message.
constexpr size_t kSizeV1_0 =
    offsetof(conduit_plugin_descriptor, destroy) + sizeof(conduit_plugin_descriptor::destroy);

}  // namespace

std::optional<std::string> checkDescriptor(const conduit_plugin_descriptor* d,
                                           std::string_view expected_name) {
  if (d == nullptr) return std::string("the entry point returned no descriptor");
  if (!CONDUIT_STRUCT_HAS(d, conduit_plugin_descriptor, destroy)) {
    return fmt::format("the descriptor's struct_size ({}) is smaller than ABI 1.0's ({})",
                       d->struct_size, kSizeV1_0);
  }
  if (d->abi_major != CONDUIT_ABI_MAJOR) {
    return fmt::format("the plugin was built for ABI major {}; this conduit speaks ABI {}.{}",
                       d->abi_major, CONDUIT_ABI_MAJOR, CONDUIT_ABI_MINOR);
  }
  if (d->abi_minor > CONDUIT_ABI_MINOR) {
    return fmt::format(
        "the plugin was built for ABI {}.{}, newer than this conduit's {}.{}: "
        "upgrade conduit",
        d->abi_major, d->abi_minor, CONDUIT_ABI_MAJOR, CONDUIT_ABI_MINOR);
  }
  // A minor no newer than ours cannot have a larger descriptor than we know.
  if (d->struct_size > sizeof(conduit_plugin_descriptor)) {
    return fmt::format(
        "the descriptor's struct_size ({}) is larger than ABI {}.{} defines ({}): "
        "the plugin was not built with a released SDK",
        d->struct_size, d->abi_major, d->abi_minor, sizeof(conduit_plugin_descriptor));
  }
  const std::pair<const char*, bool> required[] = {{"create", d->create != nullptr},
                                                   {"process", d->process != nullptr},
                                                   {"destroy", d->destroy != nullptr}};
  for (const auto& [function, present] : required) {
    if (!present) return fmt::format("the required function `{}` is missing", function);
  }
  if (d->name == nullptr || *d->name == '\0') return std::string("the descriptor has no name");
  if (std::string_view(d->name) != expected_name) {
    return fmt::format("the plugin is named `{}`, not `{}` as its file name says", d->name,
                       expected_name);
  }
  if (d->version == nullptr || *d->version == '\0') {
    return std::string("the descriptor has no version");
  }
  return std::nullopt;
}

}  // namespace conduit::plugin
