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
  router.add("GET", "/conduit/ready", [check = std::move(check)](const Request&) {
    try {
      check();
      return plainText("ready");
    } catch (const std::exception& e) {
      return errorResponse(ApiError::kRedisUnavailable, e.what());
    }
  });
}

void addWorkerPing(Router& router) {
  router.add("GET", "/conduit-reactor/ping", [](const Request&) { return plainText("pong"); });
}

}  // namespace conduit::http
