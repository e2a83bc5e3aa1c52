#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/digest.hpp"

namespace conduit::http {

// The web page's sign-in sessions. A session is a signed cookie, not a row in a table: its value
// is `<expires_at_ms>.<nonce>.<mac>`, the MAC an HMAC-SHA256 under a key derived from the
// admin_token. So every replica with the same admin_token accepts the same cookies (behind a
// load balancer the page keeps working), a restart signs nobody out, and a new admin_token signs
// everyone out. Each session's CSRF token is derived from its nonce under the same key, so a
// page that cannot read the cookie (HttpOnly) learns it only from an answer to its own origin.
//
// Signing out forgets the cookie in the browser and marks its nonce signed out in this process
// until it would have expired; another replica would still take a copy of that cookie until then
// (docs/operations.md says so). Without an admin_token the key is random per process: the page
// needs no sign-in then (loopback only), and sessions serve only to carry a CSRF token.
class UiSessions {
 public:
  static constexpr std::string_view kCookieName = "conduit_session";
  using Clock = std::function<int64_t()>;  // Unix milliseconds

  struct Session {
    std::string cookie;      // the cookie's value
    std::string nonce;       // hex; names the session
    std::string csrf_token;  // hex
    int64_t expires_at_ms = 0;
  };

  UiSessions(const std::optional<std::string>& admin_token, std::chrono::hours lifetime,
             Clock now_ms = {});

  Session create() const;

  // The session a cookie value stands for: its MAC holds, it has not expired, and it was not
  // signed out here.
  std::optional<Session> check(std::string_view cookie) const;

  // The session named by the request's `Cookie` header (the first valid `conduit_session`).
  std::optional<Session> fromCookieHeader(std::optional<std::string_view> header) const;

  bool csrfValid(const Session& session, std::string_view token) const;

  // Signs a session out in this process until it would have expired.
  void signOut(const Session& session);

  std::chrono::hours lifetime() const { return lifetime_; }

 private:
  std::string mac(std::string_view purpose, std::string_view text) const;
  Session make(int64_t expires_at_ms, std::string nonce) const;

  std::string key_;
  std::chrono::hours lifetime_;
  Clock now_ms_;
  mutable std::mutex mutex_;
  std::map<std::string, int64_t, std::less<>> signed_out_;  // nonce -> expires_at_ms
};

}  // namespace conduit::http
