#include "store/hook_cache.hpp"

namespace conduit::store {

HookCache::HookCache(HookRegistry& registry) : registry_(registry) {}

std::optional<HookWithSecret> HookCache::lookup(std::string_view provider,
                                                std::string_view repo_id) {
  return registry_.lookup(provider, repo_id);
}

std::optional<HookWithSecret> HookCache::recheck(const HookWithSecret&) {
  return std::nullopt;
}

}  // namespace conduit::store
