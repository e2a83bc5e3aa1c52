#include "http/admin_guard.hpp"

#include <chrono>
#include <map>
#include <memory>

#include <doctest/doctest.h>

using conduit::http::AdminGuard;
using conduit::http::Request;

namespace {

Request request(std::optional<std::string> authorization, bool loopback,
                std::optional<std::string> forwarded_for = std::nullopt) {
  Request r;
  r.from_loopback = loopback;
  r.header = [authorization,
              forwarded_for](std::string_view name) -> std::optional<std::string_view> {
    static thread_local std::string value;
    const std::optional<std::string> none;
    const auto& source = name == "Authorization"     ? authorization
                         : name == "X-Forwarded-For" ? forwarded_for
                                                     : none;
    if (!source) return std::nullopt;
    value = *source;
    return std::string_view(value);
  };
  return r;
}

}  // namespace

TEST_CASE("admin guard: with a token - only the right bearer token passes - from anywhere") {
  AdminGuard guard(std::string("0123456789abcdef-token"));
  CHECK_FALSE(guard.refuse(request("Bearer 0123456789abcdef-token", false)).has_value());
  CHECK_FALSE(guard.refuse(request("bearer 0123456789abcdef-token", false)).has_value());

  auto wrong = guard.refuse(request("Bearer 0123456789abcdef-tokem", true));
  REQUIRE(wrong.has_value());
  CHECK(wrong->status == 401);
  CHECK(wrong->body.find("\"error_msg\":\"unauthorized\"") != std::string::npos);
  CHECK(guard.refuse(request(std::nullopt, true)).has_value());
  CHECK(guard.refuse(request("Basic 0123456789abcdef-token", true)).has_value());
  CHECK(guard.refuse(request("Bearer ", true)).has_value());
}

TEST_CASE("admin guard: without a token - loopback clients only") {
  AdminGuard guard(std::nullopt);
  CHECK_FALSE(guard.refuse(request(std::nullopt, true)).has_value());
  auto remote = guard.refuse(request("Bearer anything-at-all-here", false));
  REQUIRE(remote.has_value());
  CHECK(remote->status == 401);
  CHECK(remote->body.find("admin_loopback_only") != std::string::npos);
  // A proxy on this machine makes everyone look local.
  CHECK(guard.refuse(request(std::nullopt, true, "203.0.113.9")).has_value());
}

namespace {

using Headers = std::map<std::string, std::string>;

// A request with these headers (names as written here) and method, from loopback or not.
struct HeaderRequest {
  Headers headers;
  Request request;
  HeaderRequest(std::string_view method, Headers h, bool loopback = false) : headers(std::move(h)) {
    request.method = method;
    request.from_loopback = loopback;
    request.header = [this](std::string_view name) -> std::optional<std::string_view> {
      auto it = headers.find(std::string(name));
      if (it == headers.end()) return std::nullopt;
      return std::string_view(it->second);
    };
  }
};

const std::string kAdminToken = "0123456789abcdef-token";

}  // namespace

TEST_CASE("admin guard: a web page session passes for reads; changes need its CSRF token") {
  auto sessions = std::make_shared<conduit::http::UiSessions>(kAdminToken, std::chrono::hours(12));
  AdminGuard guard(kAdminToken, sessions);
  auto session = sessions->create();
  const std::string cookie = "conduit_session=" + session.cookie;

  CHECK_FALSE(guard.refuse(HeaderRequest("GET", {{"Cookie", cookie}}).request).has_value());

  auto no_csrf = guard.refuse(HeaderRequest("POST", {{"Cookie", cookie}}).request);
  REQUIRE(no_csrf.has_value());
  CHECK(no_csrf->status == 403);
  CHECK(no_csrf->body.find("\"error_msg\":\"csrf_token_invalid\"") != std::string::npos);

  auto wrong_csrf = guard.refuse(
      HeaderRequest("DELETE", {{"Cookie", cookie}, {"X-CSRF-Token", sessions->create().csrf_token}})
          .request);
  REQUIRE(wrong_csrf.has_value());
  CHECK(wrong_csrf->status == 403);

  CHECK_FALSE(
      guard
          .refuse(HeaderRequest("POST", {{"Cookie", cookie}, {"X-CSRF-Token", session.csrf_token}})
                      .request)
          .has_value());

  // The CSRF token alone is no credential.
  auto token_only =
      guard.refuse(HeaderRequest("POST", {{"X-CSRF-Token", session.csrf_token}}).request);
  REQUIRE(token_only.has_value());
  CHECK(token_only->status == 401);
}

TEST_CASE("admin guard: an expired, forged or signed-out session is refused 401") {
  int64_t now_ms = 1796479323123;
  auto sessions = std::make_shared<conduit::http::UiSessions>(kAdminToken, std::chrono::hours(1),
                                                              [&now_ms] { return now_ms; });
  AdminGuard guard(kAdminToken, sessions);
  auto session = sessions->create();
  const std::string cookie = "conduit_session=" + session.cookie;
  CHECK_FALSE(guard.refuse(HeaderRequest("GET", {{"Cookie", cookie}}).request).has_value());

  now_ms += 3600 * 1000;
  auto expired = guard.refuse(HeaderRequest("GET", {{"Cookie", cookie}}).request);
  REQUIRE(expired.has_value());
  CHECK(expired->status == 401);

  now_ms -= 3600 * 1000;
  // A session of another admin_token (or a made-up one) is not one.
  conduit::http::UiSessions elsewhere("another-admin-token-0123", std::chrono::hours(1));
  auto forged = guard.refuse(
      HeaderRequest("GET", {{"Cookie", "conduit_session=" + elsewhere.create().cookie}}).request);
  REQUIRE(forged.has_value());
  CHECK(forged->status == 401);

  sessions->signOut(session);
  auto signed_out = guard.refuse(HeaderRequest("GET", {{"Cookie", cookie}}).request);
  REQUIRE(signed_out.has_value());
  CHECK(signed_out->status == 401);
}

TEST_CASE("admin guard: a browser's request from another site is refused, whatever it carries") {
  AdminGuard guard(kAdminToken);
  const Headers bearer = {{"Authorization", "Bearer " + kAdminToken}};
  auto with = [&](Headers extra) {
    Headers all = bearer;
    all.insert(extra.begin(), extra.end());
    return all;
  };
  CHECK_FALSE(guard.refuse(HeaderRequest("GET", with({{"Sec-Fetch-Site", "same-origin"}})).request)
                  .has_value());
  CHECK_FALSE(
      guard.refuse(HeaderRequest("GET", with({{"Sec-Fetch-Site", "none"}})).request).has_value());
  auto cross =
      guard.refuse(HeaderRequest("POST", with({{"Sec-Fetch-Site", "cross-site"}})).request);
  REQUIRE(cross.has_value());
  CHECK(cross->status == 403);
  CHECK(guard.refuse(HeaderRequest("POST", with({{"Sec-Fetch-Site", "same-site"}})).request)
            .has_value());
  // Without Sec-Fetch-Site, Origin must name the host the request went to.
  CHECK_FALSE(guard
                  .refuse(HeaderRequest("POST", with({{"Origin", "http://127.0.0.1:9091"},
                                                      {"Host", "127.0.0.1:9091"}}))
                              .request)
                  .has_value());
  CHECK(guard
            .refuse(HeaderRequest("POST", with({{"Origin", "https://evil.example"},
                                                {"Host", "127.0.0.1:9091"}}))
                        .request)
            .has_value());
  CHECK(guard.refuse(HeaderRequest("POST", with({{"Origin", "null"}})).request).has_value());

  // Loopback-only installs too: a page elsewhere cannot use the browser of someone on the machine.
  AdminGuard open(std::nullopt);
  CHECK_FALSE(open.refuse(HeaderRequest("POST", {}, true).request).has_value());
  auto from_page =
      open.refuse(HeaderRequest("POST", {{"Sec-Fetch-Site", "cross-site"}}, true).request);
  REQUIRE(from_page.has_value());
  CHECK(from_page->status == 403);
}
