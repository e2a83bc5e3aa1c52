#include "http/admin_guard.hpp"

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
