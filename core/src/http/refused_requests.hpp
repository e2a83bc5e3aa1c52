#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "http/http_server.hpp"

namespace conduit::http {

// One refused request as `GET /conduit/deliveries/refused` shows it. Never a payload, a
// signature or a token: only what the access log line already says, and the error's name.
struct RefusedRequest {
  int64_t at_ms = 0;
  std::string method;
  std::string path;   // without the query string
  std::string route;  // the route pattern; empty when refused before routing
  int status = 0;
  std::string error;     // the API error's name (`error_msg`)
  std::string delivery;  // the code host's delivery id the request carried, if any
  std::string source;    // the client's address (a proxy's, behind one)
};

// The last refused requests of this process, newest first: what a code host, a scanner or a
// client with a wrong token was told, for an operator asking why a delivery never arrived.
// Thread-safe; kept in memory only, so each server process (and each replica) has its own.
//
// Kept (see worthKeeping): every answer >= 400 of a payload route (a wrong signature, an
// unknown hook, a bad header, a body too large, Redis down); every request refused before
// routing (413, 411, 431, 408, 400 malformed, 503 busy or shutting down); and a 401 or 403 of
// any route (someone guessing the admin token). Not kept: unknown paths and methods (404/405
// with no route: scanners' noise that would push out what matters; the metrics count them),
// nor the 400, 404 and 409 an admin who got in is answered directly.
class RefusedRequests {
 public:
  static constexpr size_t kDefaultCapacity = 200;

  explicit RefusedRequests(size_t capacity = kDefaultCapacity);

  // The HTTP server's answer observer: keeps `answer` if it is a refusal worth keeping. Short
  // and safe to call from any thread; chain it with other observers.
  void observe(const AnsweredRequest& answer);

  static bool worthKeeping(const AnsweredRequest& answer);

  // Adds one, dropping the oldest when full.
  void add(RefusedRequest refused);

  std::vector<RefusedRequest> newestFirst() const;

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<RefusedRequest> ring_;  // grows to capacity_, then overwritten at next_
  size_t next_ = 0;
};

}  // namespace conduit::http
