#pragma once

#include <memory>
#include <string>

#include "http/admin_guard.hpp"
#include "http/router.hpp"
#include "http/ui_sessions.hpp"
#include "store/redis_pool.hpp"

namespace conduit::http {

struct UiOptions {
  std::string version;         // shown in the page's header
  std::string issue_base_url;  // `https://site.atlassian.net/browse/`, or empty: no issue links
  int refresh_seconds = 5;     // how often the page reloads what it shows while visible
};

// The web page (docs/operations.md, "The web page"): its files, built into the binary, under
// /conduit/ui/, and its sign-in. The page reads and changes everything through the admin API
// routes with its session cookie; the routes here only serve the files, sign in and out, say
// who is signed in, and sum up the queue.
//
// - `GET /conduit/ui/` and `/conduit/ui/<file>`: the page. With an admin_token anyone may load
//   it (it holds no data); without one, loopback clients only, as the admin routes.
// - `GET /conduit/ui/session`: whether the request is signed in, its CSRF token and the page's
//   settings.
// - `POST /conduit/ui/login`: the admin token (form field or JSON member `token`) for a session
//   cookie. `POST /conduit/ui/logout`: signs the session out (with its CSRF token).
// - `GET /conduit/ui/summary`: the queue's length and oldest entry, the dead letters' count.
// Every answer carries the page's security headers and `Cache-Control: no-store`.
class UiRoutes {
 public:
  UiRoutes(AdminGuard guard, store::RedisPool& redis, UiOptions options);

  void addTo(Router& router);

  Response page(const Request& request) const;
  Response asset(const Request& request) const;
  Response session(const Request& request) const;
  Response login(const Request& request) const;
  Response logout(const Request& request) const;
  Response summary(const Request& request) const;

 private:
  std::optional<Response> refusePage(const Request& request) const;

  AdminGuard guard_;
  store::RedisPool& redis_;
  UiOptions options_;
};

// The headers every answer of the page and its routes carries (CSP self only, no framing, no
// sniffing, no referrer, no caching).
void addUiSecurityHeaders(Response& response);

}  // namespace conduit::http
