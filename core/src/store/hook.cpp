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

std::string importedSecretProblem(std::string_view secret) {
  if (secret.empty()) return "is empty";
  if (secret.size() > 1024) return "must be at most 1024 bytes";
  for (char c : secret) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "must hold no control characters (line breaks, tabs): a code host could never "
             "send it back";
    }
  }
  if (secret.front() == ' ' || secret.back() == ' ') {
    return "must not begin or end with a space: a code host could never send it back";
  }
  return {};
}

std::string providerSetKey(std::string_view provider) {
  return std::string(queue::redis_keys::kProviderSetPrefix).append(provider);
}

std::string hookKey(std::string_view provider, std::string_view repo_id) {
  return std::string(queue::redis_keys::kHookPrefix).append(provider).append("::").append(repo_id);
}

}  // namespace conduit::store
