#include "http/metrics_route.hpp"

#include <doctest/doctest.h>

using conduit::http::AdminGuard;
using conduit::http::Request;
using conduit::http::Response;
using conduit::http::Router;

namespace {

const std::string kAdmin = "admin-token-0123456789";
const std::string kMetrics = "metrics-token-0123456789";

Response scrape(const Router& router, std::optional<std::string> authorization,
                bool loopback = false) {
  Request r;
  r.method = "GET";
  r.path = "/metrics";
  r.from_loopback = loopback;
  r.header = [authorization](std::string_view name) -> std::optional<std::string_view> {
    static thread_local std::string value;
    if (name != "Authorization" || !authorization) return std::nullopt;
    value = *authorization;
    return std::string_view(value);
  };
  return router.dispatch(r);
}

}  // namespace

TEST_CASE("metrics route: the metrics_token or the admin token lets in - nothing else does") {
  Router router;
  conduit::http::addMetricsRoute(router, AdminGuard(kAdmin), kMetrics,
                                 [] { return std::string("up 1\n"); });
  auto with_metrics = scrape(router, "Bearer " + kMetrics);
  CHECK(with_metrics.status == 200);
  CHECK(with_metrics.body == "up 1\n");
  CHECK(with_metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(scrape(router, "bearer " + kMetrics).status == 200);
  CHECK(scrape(router, "Bearer " + kAdmin).status == 200);
  CHECK(scrape(router, std::nullopt).status == 401);
  CHECK(scrape(router, std::nullopt, /*loopback=*/true).status == 401);  // a token is set
  CHECK(scrape(router, "Bearer " + kMetrics + "x").status == 401);
  CHECK(scrape(router, "Basic " + kMetrics).status == 401);
}

TEST_CASE("metrics route: without tokens - loopback only, like the admin routes") {
  Router router;
  conduit::http::addMetricsRoute(router, AdminGuard(std::nullopt), std::nullopt,
                                 [] { return std::string("up 1\n"); });
  CHECK(scrape(router, std::nullopt, /*loopback=*/true).status == 200);
  CHECK(scrape(router, std::nullopt, /*loopback=*/false).status == 401);
  // A metrics_token alone opens it to the network with that token only.
  Router with_token;
  conduit::http::addMetricsRoute(with_token, AdminGuard(std::nullopt), kMetrics,
                                 [] { return std::string("up 1\n"); });
  CHECK(scrape(with_token, "Bearer " + kMetrics).status == 200);
  CHECK(scrape(with_token, "Bearer wrong-token-0123456789").status == 401);
}
