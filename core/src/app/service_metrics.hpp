#pragma once

#include <memory>
#include <string>

#include "config/server_settings.hpp"
#include "metrics/conduit_metrics.hpp"

namespace conduit::app {

// The metrics of a `conduit serve`, `work` or `run` process: conduit_build_info, the process
// collector and the queue's (Redis read at scrape, within min(redis_timeout_ms, 1 s)). The
// server and the worker halves add their own to it; `conduit run` shares one between them, so
// that its one /metrics shows both.
std::shared_ptr<metrics::ConduitMetrics> makeServiceMetrics(const config::ServerSettings& settings);

// The plugin ABI this build offers, as "major.minor" (conduit_build_info's `abi`).
std::string pluginAbiVersion();

}  // namespace conduit::app
