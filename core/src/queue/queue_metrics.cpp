#include "queue/queue_metrics.hpp"

#include <algorithm>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "queue/delivery.hpp"
#include "queue/redis_keys.hpp"
#include "store/redis_connection.hpp"

namespace conduit::queue {
namespace {

// The oldest entry's id, without sending its payload (up to max_body_bytes) over the wire.
constexpr std::string_view kOldestIdScript = R"lua(
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if first[1] then return first[1][1] end
return false
)lua";

metrics::FamilySnapshot gauge(std::string name, std::string help, double value) {
  return metrics::FamilySnapshot{
      std::move(name), std::move(help), metrics::MetricType::kGauge, {{"", {}, value}}};
}

}  // namespace

metrics::Collector queueCollector(config::RedisEndpoint endpoint,
                                  std::chrono::milliseconds timeout) {
  return [endpoint = std::move(endpoint), timeout] {
    std::vector<metrics::FamilySnapshot> families;
    double up = 0;
    try {
      store::RedisConnection redis(endpoint, timeout);
      auto replies = redis.pipeline({{"XLEN", redis_keys::kStream},
                                     {"EVAL", kOldestIdScript, "1", redis_keys::kStream},
                                     {"XLEN", redis_keys::kDeadLetterStream}});
      double oldest_age = 0;
      if (!replies[1].isNil() && !replies[1].text.empty()) {
        // `<ms>-<seq>`: the time the server added it, by Redis's clock.
        const double added_ms = std::strtod(replies[1].text.c_str(), nullptr);
        oldest_age = std::max(0.0, (static_cast<double>(unixTimeMs()) - added_ms) / 1000.0);
      }
      families.push_back(gauge("conduit_queue_length",
                               "Deliveries in the queue: waiting, being processed or waiting for "
                               "a retry.",
                               static_cast<double>(replies[0].integer)));
      families.push_back(gauge("conduit_queue_oldest_age_seconds",
                               "Age of the oldest delivery in the queue (0 when it is empty).",
                               oldest_age));
      families.push_back(gauge("conduit_dead_letters", "Entries in the dead-letter stream.",
                               static_cast<double>(replies[2].integer)));
      up = 1;
    } catch (const std::exception& e) {
      spdlog::debug("metrics: Redis at {} not read: {}", endpoint.describe(), e.what());
    }
    families.insert(
        families.begin(),
        gauge("conduit_redis_up",
              "Whether Redis answered this scrape's questions in time (1) or not (0).", up));
    return families;
  };
}

}  // namespace conduit::queue
