#include "providers/registry.hpp"

#include "providers/bitbucket_provider.hpp"
#include "providers/bitbucket_server_provider.hpp"
#include "providers/forgejo_provider.hpp"
#include "providers/gitea_provider.hpp"
#include "providers/github_provider.hpp"
#include "providers/gitlab_provider.hpp"

namespace conduit::providers {
namespace {

constexpr size_t kMaxRepoPathBytes = 256;

bool hasControlOrSpace(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return true;
  }
  return false;
}

// The one instance of a provider: stateless, it lives as long as the process, so its views
// (names, header names) may be kept anywhere.
template <typename HostProvider>
const Provider* instance() {
  static const HostProvider provider;
  return &provider;
}

}  // namespace

const std::vector<const Provider*>& allProviders() {
  // One line per host, in the order the docs and messages list them. Forgejo comes after Gitea:
  // it recognizes Gitea's deliveries too, and a delivery is named after the first host that
  // recognizes it.
  static const std::vector<const Provider*> providers = {
      instance<GitHubProvider>(),           // github
      instance<GitLabProvider>(),           // gitlab
      instance<GiteaProvider>(),            // gitea
      instance<ForgejoProvider>(),          // forgejo
      instance<BitbucketProvider>(),        // bitbucket
      instance<BitbucketServerProvider>(),  // bitbucket-server
  };
  return providers;
}

const Provider* findProvider(std::string_view name) {
  for (const Provider* provider : allProviders()) {
    if (provider->name() == name) return provider;
  }
  return nullptr;
}

std::vector<std::string_view> providerNames() {
  std::vector<std::string_view> names;
  for (const Provider* provider : allProviders())
    names.push_back(provider->name());
  return names;
}

std::optional<std::string> repoPathProblem(const Provider& provider, std::string_view repo_path) {
  if (repo_path.empty()) return "is required";
  if (repo_path.size() > kMaxRepoPathBytes || hasControlOrSpace(repo_path)) {
    return "must be at most 256 bytes with no spaces or control characters";
  }
  return provider.repoPathProblem(repo_path);
}

const Provider* foreignSender(const Provider& own, const HeaderLookup& headers) {
  if (own.recognizes(headers)) return nullptr;
  for (const Provider* other : allProviders()) {
    if (other != &own && other->recognizes(headers)) return other;
  }
  return nullptr;
}

std::optional<Event> normalize(const Provider& provider, std::string_view event_type,
                               std::string_view payload, std::string& error) {
  auto event = provider.normalize(event_type, payload, error);
  if (event) event->host = std::string(provider.title());
  return event;
}

}  // namespace conduit::providers
