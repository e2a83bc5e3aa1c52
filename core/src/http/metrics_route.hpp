#pragma once

#include <functional>
#include <optional>
#include <string>

#include "http/admin_guard.hpp"
#include "http/router.hpp"

namespace conduit::http {

// The Content-Type of Prometheus's text format 0.0.4.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// `GET /metrics`: what `render` answers, in Prometheus's text format. Let in by the admin rules
// (`guard`), or by `Authorization: Bearer <metrics_token>` (compared in constant time) when a
// metrics_token is set, so that a Prometheus can scrape without the admin token. The
// metrics_token opens this route only.
void addMetricsRoute(Router& router, AdminGuard guard, std::optional<std::string> metrics_token,
                     std::function<std::string()> render);

}  // namespace conduit::http
