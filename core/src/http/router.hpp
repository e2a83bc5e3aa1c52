#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request.hpp"

namespace conduit::http {

using RouteHandler = std::function<Response(const Request&)>;

// Maps method and path to a handler. Patterns are literal segments and `:name` parameters, as
// in `/conduit/webhooks/:provider/:repo_id/payload`; the parameters land in Request::params.
class Router {
 public:
  void add(std::string_view method, std::string_view pattern, RouteHandler handler);

  // Runs the matching handler and turns what escapes it into an API error: Redis
  // unreachable is 503, anything else 500 (logged, never shown to the client). No match is
  // 404, or 405 when the path exists for other methods.
  Response dispatch(Request& request) const;

  // Each route's method and pattern, in the order added: logged at debug when a server starts,
  // which is how the OpenAPI test learns the routes a real process serves.
  std::vector<std::pair<std::string, std::string>> patterns() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;                // as added: Request::route points to it
    std::vector<std::string> segments;  // ":name" marks a parameter
    RouteHandler handler;
  };

  static bool match(const Route& route, std::string_view path, Request& request);

  std::vector<Route> routes_;
};

}  // namespace conduit::http
