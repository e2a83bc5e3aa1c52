#pragma once

#include "http/admin_guard.hpp"
#include "http/router.hpp"
#include "store/hook_registry.hpp"

namespace conduit::http {

// The hook administration routes: register, update (a new secret), import (an existing
// secret), find, list and delete. Every one needs the admin guard's consent. Only register and
// update ever answer with a secret: the one they have just made.
class HookAdminRoutes {
 public:
  HookAdminRoutes(store::HookRegistry& registry, AdminGuard guard);

  void addTo(Router& router);

  Response registerHook(const Request& request);
  Response updateHook(const Request& request);
  Response importHook(const Request& request);
  Response findHook(const Request& request);
  Response listHooks(const Request& request);
  Response deleteHook(const Request& request);

 private:
  store::HookRegistry& registry_;
  AdminGuard guard_;
};

}  // namespace conduit::http
