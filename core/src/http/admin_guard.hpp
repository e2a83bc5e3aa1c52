#pragma once

#include <optional>
#include <string>

#include "http/request.hpp"

namespace conduit::http {

// Guards the hook administration routes. With an `admin_token`, a request must carry
// `Authorization: Bearer <admin_token>` (compared in constant time). Without one, only clients
// on loopback are let in, and only when no proxy forwarded the request (Forwarded,
// X-Forwarded-For, X-Real-IP), so that a fresh install is not open to the network.
class AdminGuard {
 public:
  explicit AdminGuard(std::optional<std::string> admin_token);

  // nullopt when the request may go on; otherwise the 401 to answer.
  std::optional<Response> refuse(const Request& request) const;

 private:
  std::optional<std::string> admin_token_;
};

}  // namespace conduit::http
