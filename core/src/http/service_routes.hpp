#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace conduit::http {

// `GET /conduit/ping` answers `pong`; `GET /conduit/version` the version. Plain text, no auth:
// they are for load balancers and people.
void addServiceRoutes(Router& router, std::string_view version);

// Whether the process can do its work now: throws (with the reason) when it cannot.
using ReadinessCheck = std::function<void()>;

// `GET /conduit/ready` answers 200 `ready` while `check` passes, else 503 `redis_unavailable`
// with the reason: for load balancers' and Kubernetes' readiness probes (liveness is
// /conduit/ping, which does not depend on Redis).
void addReadiness(Router& router, ReadinessCheck check);

// Like addReadiness, for a process that copes in more than one way: `probe` returns the body of
// the 200 (`ready`; the server while it spools deliveries: `spooling`), or throws.
using ReadinessProbe = std::function<std::string()>;
void addReadinessProbe(Router& router, ReadinessProbe probe);

// `GET /conduit-reactor/ping` answers `pong`: the original worker's health route, served by
// `conduit work` on worker_port and by `conduit run` on the API port.
void addWorkerPing(Router& router);

}  // namespace conduit::http
