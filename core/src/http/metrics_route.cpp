#include "http/metrics_route.hpp"

#include <cctype>

#include "crypto/digest.hpp"

namespace conduit::http {
namespace {

// Whether the request carries `Authorization: Bearer <token>`; the scheme is case-insensitive.
bool carriesBearer(const Request& request, const std::string& token) {
  constexpr std::string_view kScheme = "bearer ";
  auto header = request.header("Authorization");
  if (!header || header->size() <= kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>((*header)[i])) != kScheme[i]) return false;
  }
  std::string_view given = header->substr(kScheme.size());
  while (!given.empty() && given.front() == ' ')
    given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ')
    given.remove_suffix(1);
  return crypto::secretsEqual(given, token);
}

}  // namespace

void addMetricsRoute(Router& router, AdminGuard guard, std::optional<std::string> metrics_token,
                     std::function<std::string()> render) {
  router.add("GET", "/metrics",
             [guard = std::move(guard), token = std::move(metrics_token),
              render = std::move(render)](const Request& request) {
               if (!token || !carriesBearer(request, *token)) {
                 if (auto refused = guard.refuse(request)) return std::move(*refused);
               }
               Response response;
               response.body = render();
               response.content_type = kMetricsContentType;
               return response;
             });
}

}  // namespace conduit::http
