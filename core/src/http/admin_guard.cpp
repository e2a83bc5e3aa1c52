#include "http/admin_guard.hpp"

#include <cctype>

#include "crypto/digest.hpp"
#include "http/api_response.hpp"

namespace conduit::http {
namespace {

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// The credentials of an `Authorization: Bearer <token>` header; the scheme is case-insensitive.
std::optional<std::string_view> bearerToken(std::optional<std::string_view> header) {
  constexpr std::string_view kScheme = "bearer ";
  if (!header || header->size() <= kScheme.size()) return std::nullopt;
  if (!equalsNoCase(header->substr(0, kScheme.size()), kScheme)) return std::nullopt;
  std::string_view token = header->substr(kScheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  return token;
}

bool changing(const Request& request) {
  return request.method != "GET" && request.method != "HEAD";
}

}  // namespace

AdminGuard::AdminGuard(std::optional<std::string> admin_token, std::shared_ptr<UiSessions> sessions)
    : admin_token_(std::move(admin_token)), sessions_(std::move(sessions)) {}

bool AdminGuard::crossSite(const Request& request) {
  if (auto site = request.header("Sec-Fetch-Site")) {
    return !equalsNoCase(*site, "same-origin") && !equalsNoCase(*site, "none");
  }
  // Browsers without Sec-Fetch-Site still send Origin on cross-origin requests and changing
  // ones: it must name the host the request was sent to.
  auto origin = request.header("Origin");
  if (!origin) return false;
  const size_t scheme_end = origin->find("://");
  if (scheme_end == std::string_view::npos) return true;  // "null", or not an origin at all
  auto host = request.header("Host");
  return !host || !equalsNoCase(origin->substr(scheme_end + 3), *host);
}

bool AdminGuard::loopbackAdmitted(const Request& request) const {
  if (admin_token_) return false;
  // A proxy on this machine makes every client look local: its requests are not trusted.
  const bool forwarded = request.header("Forwarded") || request.header("X-Forwarded-For") ||
                         request.header("X-Real-IP");
  return request.from_loopback && !forwarded;
}

bool AdminGuard::bearerValid(const Request& request) const {
  auto token = bearerToken(request.header("Authorization"));
  return token && tokenMatches(*token);
}

bool AdminGuard::tokenMatches(std::string_view token) const {
  return admin_token_ && crypto::secretsEqual(token, *admin_token_);
}

std::optional<UiSessions::Session> AdminGuard::session(const Request& request) const {
  if (!sessions_) return std::nullopt;
  return sessions_->fromCookieHeader(request.header("Cookie"));
}

std::optional<Response> AdminGuard::refuse(const Request& request) const {
  if (crossSite(request)) {
    return errorResponse(ApiError::kCsrfTokenInvalid,
                         "a browser sent this request from another site");
  }
  if (!admin_token_) {
    if (loopbackAdmitted(request)) return std::nullopt;
    return errorResponse(ApiError::kAdminLoopbackOnly,
                         "no admin_token is configured, so this route answers clients on this "
                         "machine only, and not through a proxy");
  }
  if (bearerValid(request)) return std::nullopt;
  if (auto signed_in = session(request)) {
    if (!changing(request)) return std::nullopt;
    auto token = request.header("X-CSRF-Token");
    if (token && sessions_->csrfValid(*signed_in, *token)) return std::nullopt;
    return errorResponse(ApiError::kCsrfTokenInvalid,
                         "a changing request of the web page must carry its session's "
                         "X-CSRF-Token");
  }
  return errorResponse(ApiError::kUnauthorized,
                       "send Authorization: Bearer <admin_token>, or sign in on /conduit/ui/");
}

}  // namespace conduit::http
