#pragma once

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

  store::HookCache& hooks_;
  queue::DeliveryQueue& queue_;
  metrics::ConduitMetrics* metrics_;
  spool::Spool* spool_;
};

}  // namespace conduit::http
