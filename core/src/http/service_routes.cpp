#include "http/service_routes.hpp"

#include <string>

#include "http/api_response.hpp"

namespace conduit::http {
namespace {

Response plainText(std::string body) {
  Response response;
  response.body = std::move(body);
  response.content_type = "text/plain";
  return response;
}

}  // namespace

void addServiceRoutes(Router& router, std::string_view version) {
  router.add("GET", "/conduit/ping", [](const Request&) { return plainText("pong"); });
  router.add("GET", "/conduit/version",
             [v = std::string(version)](const Request&) { return plainText(v); });
}

void addReadiness(Router& router, ReadinessCheck check) {
  addReadinessProbe(router, [check = std::move(check)] {
    check();
    return std::string("ready");
  });
}

void addReadinessProbe(Router& router, ReadinessProbe probe) {
  router.add("GET", "/conduit/ready", [probe = std::move(probe)](const Request&) {
    try {
      return plainText(probe());
    } catch (const std::exception& e) {
      return errorResponse(ApiError::kRedisUnavailable, e.what());
    }
  });
}

void addWorkerPing(Router& router) {
  router.add("GET", "/conduit-reactor/ping", [](const Request&) { return plainText("pong"); });
}

}  // namespace conduit::http
