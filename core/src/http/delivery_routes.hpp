#pragma once

#include "http/admin_guard.hpp"
#include "http/refused_requests.hpp"
#include "http/router.hpp"
#include "queue/delivery_log.hpp"

namespace conduit::http {

// The delivery log's admin routes (docs/http-api.md, "Deliveries" and "Dead letters"): list,
// show and replay deliveries, list, replay and discard dead letters, and the refused-request
// ring. Every one needs the admin guard's consent, as the hook admin routes do.
class DeliveryRoutes {
 public:
  DeliveryRoutes(queue::DeliveryLog& log, const RefusedRequests& refused, AdminGuard guard);

  void addTo(Router& router);

  Response listDeliveries(const Request& request);
  Response listRefused(const Request& request);
  Response showDelivery(const Request& request);
  Response replayDelivery(const Request& request);
  Response listDeadLetters(const Request& request);
  Response replayDeadLetters(const Request& request);
  Response discardDeadLetters(const Request& request);

 private:
  queue::DeliveryLog& log_;
  const RefusedRequests& refused_;
  AdminGuard guard_;
};

}  // namespace conduit::http
