#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "providers/provider.hpp"

namespace conduit::http {

// An HTTP request as the routes see it: plain views, valid while the request is being handled,
// so that routes are tested without a server and never copy a body.
struct Request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view path;    // without the query string
  providers::HeaderLookup header;
  std::function<std::optional<std::string>(std::string_view name)> query;
  std::string_view body;
  bool from_loopback = false;  // the client's address is 127.0.0.0/8 or ::1
  std::string_view peer;       // the client's address, for logs of what an admin changed

  // The code host's delivery id, set by the payload route as soon as it knows it, for the
  // access log (which is written whatever the answer). Never a secret.
  mutable std::string log_delivery_id;
  // The pattern of the route that served the request (`/conduit/webhooks/:provider/:repo_id/
  // payload`), set by the router: metrics and the refused-request ring name routes by it, so
  // that ids in paths do not make a label value per hook. Empty when no route matched.
  mutable std::string_view route;

  // Filled in by the router from the route's `:name` segments.
  std::vector<std::pair<std::string_view, std::string_view>> params;

  std::string_view param(std::string_view name) const {
    for (const auto& [key, value] : params) {
      if (key == name) return value;
    }
    return {};
  }
};

struct Response {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  bool close_connection = false;  // answer with `Connection: close` and close after writing
  int retry_after_s = 0;          // > 0: sent as `Retry-After` (seconds)
  // Further headers, written as given (`Set-Cookie`, `Location`, `Cache-Control`, ...). Names
  // and values are the route's own constants or checked values: never a client's bytes.
  std::vector<std::pair<std::string, std::string>> headers;
  // The error's name (`error_msg`) when errorResponse made it, for the answer observer (the
  // refused-request ring shows it); a static string, empty for a success.
  std::string_view error;
};

}  // namespace conduit::http
