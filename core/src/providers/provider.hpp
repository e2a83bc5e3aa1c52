#pragma once

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace conduit::providers {

// Looks up a request header by name, case-insensitively. The view lives as long as the request.
using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

enum class SignatureStatus { kValid, kMissing, kMalformed, kMismatch };

// What a code host needs from the server to accept its deliveries. Plain C++ with no I/O: the
// HTTP layer hands headers and body in, and decides the status code from the answers.
class Provider {
 public:
  virtual ~Provider() = default;

  // The `provider` of a hook and of the payload route: "github".
  virtual std::string_view name() const = 0;

  // Checks the delivery's signature over the raw body with the hook's secret, in constant time.
  virtual SignatureStatus verifySignature(const HeaderLookup& headers, std::string_view body,
                                          std::string_view secret) const = 0;

  // The event type (`pull_request`, `release`, `ping`, ...) and the delivery's unique id.
  virtual std::optional<std::string_view> eventType(const HeaderLookup& headers) const = 0;
  virtual std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const = 0;

  // The provider's hook-creation handshake, answered but never queued.
  virtual bool isPing(std::string_view event_type) const = 0;
};

// The provider called `name`, or nullptr when Conduit does not know it.
const Provider* findProvider(std::string_view name);

// The names of every known provider, for error messages.
std::vector<std::string_view> providerNames();

}  // namespace conduit::providers
