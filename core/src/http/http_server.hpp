#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "http/router.hpp"

namespace conduit::http {

struct HttpServerOptions {
  std::string bind = "0.0.0.0";
  uint16_t port = 9091;  // 0: any free port (tests)
  int threads = 2;
  size_t max_body_bytes = 26214400;
};

// The Pistache endpoint in front of a Router. It refuses a declared Content-Length over
// max_body_bytes (and bodies without one) before reading or reserving anything, logs one line
// per request, and stops gracefully: new requests are answered 503 while the ones in flight
// finish.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, std::shared_ptr<const Router> router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and serves on background threads. Throws std::runtime_error if it cannot bind.
  void start();

  // The bound port (the chosen one when the options said 0).
  uint16_t port() const;

  // From now on answers every new request 503 with `Connection: close`, and waits up to
  // `grace` for the requests being handled to finish. Returns how many were still running
  // then. When all finished, the endpoint is closed; otherwise it is left answering 503, since
  // closing it would wait for them: the caller should exit the process.
  int drainAndStop(std::chrono::milliseconds grace);

  struct State;

 private:
  HttpServerOptions options_;
  std::shared_ptr<State> state_;
  struct Endpoint;
  std::unique_ptr<Endpoint> endpoint_;
};

}  // namespace conduit::http
