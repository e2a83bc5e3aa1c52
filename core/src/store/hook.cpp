#include "store/hook.hpp"

#include <cctype>

#include "queue/redis_keys.hpp"

namespace conduit::store {

bool isValidRepoId(std::string_view repo_id) {
  if (repo_id.empty() || repo_id.size() > 100) return false;
  for (char c : repo_id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string providerSetKey(std::string_view provider) {
  return std::string(queue::redis_keys::kProviderSetPrefix).append(provider);
}

std::string hookKey(std::string_view provider, std::string_view repo_id) {
  return std::string(queue::redis_keys::kHookPrefix).append(provider).append("::").append(repo_id);
}

}  // namespace conduit::store
