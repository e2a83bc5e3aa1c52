#pragma once

#include <string_view>

#include "http/router.hpp"

namespace conduit::http {

// `GET /conduit/ping` answers `pong`; `GET /conduit/version` the version. Plain text, no auth:
// they are for load balancers and people.
void addServiceRoutes(Router& router, std::string_view version);

// `GET /conduit-reactor/ping` answers `pong`: the original worker's health route, served by
// `conduit work` on worker_port and by `conduit run` on the API port.
void addWorkerPing(Router& router);

}  // namespace conduit::http
