#include "store/hook.hpp"

#include <cctype>

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
  return "providers::" + std::string(provider);
}

std::string hookKey(std::string_view provider, std::string_view repo_id) {
  return "secrets::" + std::string(provider) + "::" + std::string(repo_id);
}

}  // namespace conduit::store
