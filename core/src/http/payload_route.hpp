#pragma once

#include <atomic>
#include <cstdint>

#include "http/router.hpp"
#include "metrics/conduit_metrics.hpp"
#include "queue/delivery_queue.hpp"
#include "spool/spool.hpp"
#include "store/hook_cache.hpp"

namespace conduit::http {

// `POST /conduit/webhooks/:provider/:repo_id/payload` (and the original's `/webhooks/...`):
// checks a code host's delivery and queues it durably. The checks run in the documented
// order and the first that fails answers; docs/http-api.md lists them.
class PayloadRoute {
 public:
  // `metrics` (not owned; may be null) counts each answer in
  // conduit_deliveries_received_total. `spool` (not owned; null: none) takes the deliveries
  // Redis cannot take.
  PayloadRoute(store::HookCache& hooks, queue::DeliveryQueue& queue,
               metrics::ConduitMetrics* metrics = nullptr, spool::Spool* spool = nullptr);

  void addTo(Router& router);

  Response receive(const Request& request);

 private:
  // The checks and the queueing; `outcome` says how it ended when it did not refuse.
  Response check(const Request& request, metrics::Received& outcome);

  // False while deliveries go to the spool without trying Redis (see spool_directly_until_ms_);
  // true for the one delivery a second that tries it.
  bool tryRedisNow();

  store::HookCache& hooks_;
  queue::DeliveryQueue& queue_;
  metrics::ConduitMetrics* metrics_;
  spool::Spool* spool_;
  // With a spool: until this time (steady clock, ms), and while the spool holds files, a
  // delivery goes to the spool without trying Redis, which timed out on one a moment ago. A
  // Redis that hangs would otherwise hold every delivery for redis_timeout_ms before it is
  // spooled. One delivery a second tries Redis again.
  std::atomic<int64_t> spool_directly_until_ms_{0};
};

}  // namespace conduit::http
