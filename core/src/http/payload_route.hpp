#pragma once

#include "http/router.hpp"
#include "queue/delivery_queue.hpp"
#include "store/hook_registry.hpp"

namespace conduit::http {

// `POST /conduit/webhooks/:provider/:repo_id/payload` (and the original's `/webhooks/...`):
// checks a code host's delivery and queues it durably. The checks run in the documented
// order and the first that fails answers; docs/http-api.md lists them.
class PayloadRoute {
 public:
  PayloadRoute(store::HookRegistry& registry, queue::DeliveryQueue& queue);

  void addTo(Router& router);

  Response receive(const Request& request);

 private:
  store::HookRegistry& registry_;
  queue::DeliveryQueue& queue_;
};

}  // namespace conduit::http
