#pragma once

#include <string_view>

#include "http/router.hpp"

namespace conduit::http {

// `GET /conduit/ping` answers `pong`; `GET /conduit/version` the version. Plain text, no auth:
// they are for load balancers and people.
void addServiceRoutes(Router& router, std::string_view version);

}  // namespace conduit::http
