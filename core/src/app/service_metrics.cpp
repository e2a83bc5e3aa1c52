#include "app/service_metrics.hpp"

#include <conduit/plugin.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "app/version.hpp"
#include "queue/queue_metrics.hpp"

namespace conduit::app {

std::string pluginAbiVersion() {
  return fmt::format("{}.{}", CONDUIT_ABI_MAJOR, CONDUIT_ABI_MINOR);
}

std::shared_ptr<metrics::ConduitMetrics> makeServiceMetrics(
    const config::ServerSettings& settings) {
  auto made = std::make_shared<metrics::ConduitMetrics>(version(), pluginAbiVersion());
  // A scrape must answer well within Prometheus's scrape_timeout (10 s by default) even while
  // Redis does not: it then says conduit_redis_up 0.
  const auto timeout = std::min(std::chrono::milliseconds(settings.redis_timeout_ms),
                                std::chrono::milliseconds(1000));
  made->registry().addCollector(queue::queueCollector(settings.redis, timeout));
  return made;
}

}  // namespace conduit::app
