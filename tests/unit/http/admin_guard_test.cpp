#include "http/admin_guard.hpp"

#include <doctest/doctest.h>

using conduit::http::AdminGuard;
using conduit::http::Request;

namespace {

Request request(std::optional<std::string> authorization, bool loopback) {
  Request r;
  r.from_loopback = loopback;
  r.header = [authorization](std::string_view name) -> std::optional<std::string_view> {
    static thread_local std::string value;
    if (name != "Authorization" || !authorization)
      return std::nullopt;
    value = *authorization;
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
}
