#include "http/admin_guard.hpp"

#include <cctype>

#include "crypto/digest.hpp"
#include "http/api_response.hpp"

namespace conduit::http {
namespace {

// The credentials of an `Authorization: Bearer <token>` header; the scheme is case-insensitive.
std::optional<std::string_view> bearerToken(std::optional<std::string_view> header) {
  constexpr std::string_view kScheme = "bearer ";
  if (!header || header->size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>((*header)[i])) != kScheme[i]) return std::nullopt;
  }
  std::string_view token = header->substr(kScheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  return token;
}

}  // namespace

AdminGuard::AdminGuard(std::optional<std::string> admin_token)
    : admin_token_(std::move(admin_token)) {}

std::optional<Response> AdminGuard::refuse(const Request& request) const {
  if (!admin_token_) {
    // A proxy on this machine makes every client look local: its requests are not trusted.
    const bool forwarded = request.header("Forwarded") || request.header("X-Forwarded-For") ||
                           request.header("X-Real-IP");
    if (request.from_loopback && !forwarded) return std::nullopt;
    return errorResponse(ApiError::kAdminLoopbackOnly,
                         "no admin_token is configured, so this route answers clients on this "
                         "machine only, and not through a proxy");
  }
  auto token = bearerToken(request.header("Authorization"));
  if (token && crypto::secretsEqual(*token, *admin_token_)) return std::nullopt;
  return errorResponse(ApiError::kUnauthorized, "send Authorization: Bearer <admin_token>");
}

}  // namespace conduit::http
