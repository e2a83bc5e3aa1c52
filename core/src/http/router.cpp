#include "http/router.hpp"

#include <spdlog/spdlog.h>

#include "http/api_response.hpp"
#include "logging/log_context.hpp"
#include "store/hook_registry.hpp"
#include "store/redis_connection.hpp"

namespace conduit::http {
namespace {

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 1;  // paths begin with '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

}  // namespace

void Router::add(std::string_view method, std::string_view pattern, RouteHandler handler) {
  Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
  for (auto segment : splitPath(pattern))
    route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

std::vector<std::pair<std::string, std::string>> Router::patterns() const {
  std::vector<std::pair<std::string, std::string>> patterns;
  patterns.reserve(routes_.size());
  for (const auto& route : routes_)
    patterns.emplace_back(route.method, route.pattern);
  return patterns;
}

bool Router::match(const Route& route, std::string_view path, Request& request) {
  auto segments = splitPath(path);
  if (segments.size() != route.segments.size()) return false;
  std::vector<std::pair<std::string_view, std::string_view>> params;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& expected = route.segments[i];
    if (!expected.empty() && expected.front() == ':') {
      if (segments[i].empty()) return false;
      params.emplace_back(std::string_view(expected).substr(1), segments[i]);
    } else if (expected != segments[i]) {
      return false;
    }
  }
  request.params = std::move(params);
  return true;
}

Response Router::dispatch(Request& request) const {
  if (request.path.empty() || request.path.front() != '/') {
    return errorResponse(ApiError::kRouteNotFound, "no route serves this path");
  }
  const Route* found = nullptr;
  bool path_known = false;
  for (const auto& route : routes_) {
    if (!match(route, request.path, request)) continue;
    path_known = true;
    if (route.method == request.method) {
      found = &route;
      break;
    }
  }
  if (found == nullptr) {
    if (path_known) {
      return errorResponse(ApiError::kMethodNotAllowed,
                           fmt::format("{} is not served on this path", request.method));
    }
    return errorResponse(ApiError::kRouteNotFound, "no route serves this path");
  }

  request.route = found->pattern;
  // A line about a request that failed names the delivery it carried, when a route knew it.
  logging::LogScope log_scope;
  auto noteDelivery = [&] {
    if (!request.log_delivery_id.empty()) log_scope.delivery(request.log_delivery_id);
  };
  try {
    return found->handler(request);
  } catch (const store::RedisUnavailable& e) {
    noteDelivery();
    spdlog::warn("{} {}: {}", request.method, request.path, e.what());
    return errorResponse(ApiError::kRedisUnavailable,
                         "the queue store is unreachable; retry later");
  } catch (const store::SecretUnreadable& e) {
    noteDelivery();
    spdlog::error("{} {}: {}", request.method, request.path, e.what());
    return errorResponse(ApiError::kHookSecretUnreadable,
                         "the hook's secret cannot be read; the operator must check secret_key");
  } catch (const std::exception& e) {
    noteDelivery();
    spdlog::error("{} {}: unexpected error: {}", request.method, request.path, e.what());
    return errorResponse(ApiError::kInternalError);
  }
}

}  // namespace conduit::http
