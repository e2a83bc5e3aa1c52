#pragma once

#include <memory>
#include <optional>
#include <string>

#include "http/request.hpp"
#include "http/ui_sessions.hpp"

namespace conduit::http {

// Guards the admin routes (hooks, deliveries, dead letters, the web page's data). With an
// `admin_token`, a request must carry `Authorization: Bearer <admin_token>` (compared in
// constant time), or the web page's session cookie, and for a changing request (anything but
// GET and HEAD) also that session's `X-CSRF-Token`. Without one, only clients on loopback are
// let in, and only when no proxy forwarded the request (Forwarded, X-Forwarded-For,
// X-Real-IP), so that a fresh install is not open to the network.
//
// Whatever the credentials, a request that a browser says comes from another site
// (`Sec-Fetch-Site` other than same-origin or none, or an `Origin` naming another host) is
// refused: a page elsewhere cannot drive the API through the browser of someone signed in, or
// of someone on the machine of a loopback-only install.
class AdminGuard {
 public:
  explicit AdminGuard(std::optional<std::string> admin_token,
                      std::shared_ptr<UiSessions> sessions = nullptr);

  // nullopt when the request may go on; otherwise the 401 or 403 to answer.
  std::optional<Response> refuse(const Request& request) const;

  // The web page's session the request's cookie names, if valid (CSRF not checked).
  std::optional<UiSessions::Session> session(const Request& request) const;

  bool tokenConfigured() const { return admin_token_.has_value(); }
  // Whether the request may pass without credentials: no admin_token, from loopback, not
  // through a proxy.
  bool loopbackAdmitted(const Request& request) const;
  // The request's bearer token is the admin_token.
  bool bearerValid(const Request& request) const;
  // `token` is the admin_token (compared in constant time).
  bool tokenMatches(std::string_view token) const;
  static bool crossSite(const Request& request);

  const std::shared_ptr<UiSessions>& sessions() const { return sessions_; }

 private:
  std::optional<std::string> admin_token_;
  std::shared_ptr<UiSessions> sessions_;
};

}  // namespace conduit::http
