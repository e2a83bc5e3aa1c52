#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace conduit::store {

// Turns a host name into numeric addresses (`10.0.0.7`, `::1`), blocking: getaddrinfo() by
// default. Throws std::runtime_error with the resolver's words when the name does not resolve.
using BlockingResolver = std::function<std::vector<std::string>(const std::string& host)>;

// The system's resolver (getaddrinfo, TCP addresses of any family, in its preferred order).
std::vector<std::string> systemResolve(const std::string& host);

// The numeric addresses of `host`, found by `resolve` within `deadline`. getaddrinfo() has no
// timeout of its own (a DNS server that does not answer holds it for resolv.conf's timeouts and
// attempts, tens of seconds), so it runs on a helper thread that is left to finish on its own
// when the deadline passes first. A host that is already numeric is returned as it is, without
// any thread. Throws std::runtime_error when the name does not resolve, or not in time.
std::vector<std::string> resolveHost(const std::string& host,
                                     std::chrono::steady_clock::time_point deadline,
                                     const BlockingResolver& resolve = systemResolve);

}  // namespace conduit::store
