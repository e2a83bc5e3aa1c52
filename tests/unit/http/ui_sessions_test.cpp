#include "http/ui_sessions.hpp"

#include <chrono>

#include <doctest/doctest.h>

using conduit::http::UiSessions;

namespace {

const std::string kToken = "0123456789abcdef-token";

struct FakeClock {
  int64_t now_ms = 1796479323123;
  UiSessions::Clock clock() {
    return [this] { return now_ms; };
  }
};

}  // namespace

TEST_CASE("ui sessions: a new session's cookie is accepted, with its CSRF token") {
  FakeClock time;
  UiSessions sessions(kToken, std::chrono::hours(12), time.clock());
  auto session = sessions.create();
  CHECK(session.expires_at_ms == time.now_ms + 12 * 3600 * 1000);
  auto checked = sessions.check(session.cookie);
  REQUIRE(checked.has_value());
  CHECK(checked->nonce == session.nonce);
  CHECK(checked->csrf_token == session.csrf_token);
  CHECK(sessions.csrfValid(*checked, session.csrf_token));
  // Two sessions differ in everything.
  auto other = sessions.create();
  CHECK(other.cookie != session.cookie);
  CHECK(other.csrf_token != session.csrf_token);
}

TEST_CASE("ui sessions: a wrong or missing CSRF token is refused") {
  UiSessions sessions(kToken, std::chrono::hours(12));
  auto session = sessions.create();
  auto other = sessions.create();
  CHECK_FALSE(sessions.csrfValid(session, ""));
  CHECK_FALSE(sessions.csrfValid(session, other.csrf_token));
  CHECK_FALSE(sessions.csrfValid(session, session.csrf_token + "0"));
  CHECK_FALSE(sessions.csrfValid(session, session.cookie));
}

TEST_CASE("ui sessions: an expired cookie is refused") {
  FakeClock time;
  UiSessions sessions(kToken, std::chrono::hours(1), time.clock());
  auto session = sessions.create();
  time.now_ms += 3600 * 1000 - 1;
  CHECK(sessions.check(session.cookie).has_value());
  time.now_ms += 1;
  CHECK_FALSE(sessions.check(session.cookie).has_value());
}

TEST_CASE("ui sessions: a changed cookie is refused - a later expiry cannot be forged") {
  UiSessions sessions(kToken, std::chrono::hours(1));
  auto session = sessions.create();
  const auto first_dot = session.cookie.find('.');
  // Pushing the expiry out breaks the MAC.
  CHECK_FALSE(sessions.check("9" + session.cookie).has_value());
  CHECK_FALSE(
      sessions.check(session.cookie.substr(0, first_dot) + "0" + session.cookie.substr(first_dot))
          .has_value());
  std::string flipped = session.cookie;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  CHECK_FALSE(sessions.check(flipped).has_value());
  CHECK_FALSE(sessions.check("").has_value());
  CHECK_FALSE(sessions.check("..").has_value());
  CHECK_FALSE(sessions.check("x.y.z").has_value());
}

TEST_CASE("ui sessions: every replica with the same admin_token accepts them; a new token not") {
  UiSessions one(kToken, std::chrono::hours(1));
  UiSessions two(kToken, std::chrono::hours(1));
  UiSessions rotated(kToken + "-rotated", std::chrono::hours(1));
  auto session = one.create();
  auto at_two = two.check(session.cookie);
  REQUIRE(at_two.has_value());
  CHECK(at_two->csrf_token == session.csrf_token);
  CHECK_FALSE(rotated.check(session.cookie).has_value());
  // Without an admin_token each process has a key of its own.
  UiSessions a(std::nullopt, std::chrono::hours(1));
  UiSessions b(std::nullopt, std::chrono::hours(1));
  CHECK(a.check(a.create().cookie).has_value());
  CHECK_FALSE(b.check(a.create().cookie).has_value());
}

TEST_CASE("ui sessions: a signed-out session is refused, others are not") {
  FakeClock time;
  UiSessions sessions(kToken, std::chrono::hours(1), time.clock());
  auto session = sessions.create();
  auto other = sessions.create();
  sessions.signOut(session);
  CHECK_FALSE(sessions.check(session.cookie).has_value());
  CHECK(sessions.check(other.cookie).has_value());
}

TEST_CASE("ui sessions: the session cookie is found among the others of a Cookie header") {
  UiSessions sessions(kToken, std::chrono::hours(1));
  auto session = sessions.create();
  CHECK_FALSE(sessions.fromCookieHeader(std::nullopt).has_value());
  CHECK_FALSE(sessions.fromCookieHeader("theme=dark").has_value());
  auto found = sessions.fromCookieHeader("theme=dark; conduit_session=" + session.cookie + "; x=1");
  REQUIRE(found.has_value());
  CHECK(found->nonce == session.nonce);
  // A stale cookie of the same name before the valid one does not hide it.
  CHECK(sessions.fromCookieHeader("conduit_session=1.2.3;conduit_session=" + session.cookie)
            .has_value());
  CHECK_FALSE(sessions.fromCookieHeader("conduit_sessionx=" + session.cookie).has_value());
}
