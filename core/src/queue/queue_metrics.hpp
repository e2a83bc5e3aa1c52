#pragma once

#include <chrono>

#include "config/redis_url.hpp"
#include "metrics/registry.hpp"

namespace conduit::queue {

// The collector of what Redis knows at scrape time: conduit_redis_up, conduit_queue_length
// (entries of the delivery stream: waiting, being processed or waiting for a retry),
// conduit_queue_oldest_age_seconds (from the oldest entry's id) and conduit_dead_letters (the
// dead-letter stream's length). One connection per scrape, bounded by `timeout`; when Redis does
// not answer in time, only `conduit_redis_up 0`, and the scrape goes on.
metrics::Collector queueCollector(config::RedisEndpoint endpoint,
                                  std::chrono::milliseconds timeout);

}  // namespace conduit::queue
