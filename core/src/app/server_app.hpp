#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "config/server_settings.hpp"
#include "metrics/conduit_metrics.hpp"

namespace conduit::app {

// The composition root of `conduit serve`: Redis pool, hook registry, delivery queue, routes and
// the HTTP server, built from the settings and started and stopped in order. The integration
// tests run it in-process exactly as the command does.
class ServerApp {
 public:
  // `with_worker_ping`: also answer the worker's /conduit-reactor/ping (`conduit run`).
  // `metrics`: the process's (shared with its worker half in `conduit run`); nullptr: its own.
  explicit ServerApp(const config::ServerSettings& settings, bool with_worker_ping = false,
                     std::shared_ptr<metrics::ConduitMetrics> metrics = nullptr);
  ~ServerApp();
  ServerApp(const ServerApp&) = delete;
  ServerApp& operator=(const ServerApp&) = delete;

  // Prepares the queue (not fatal if Redis is down yet), opens the spool and starts its
  // drainer, and starts serving. Throws spool::SpoolUnusable when spool_dir cannot be used (a
  // configuration problem: exit status 2), std::runtime_error when the address cannot be bound.
  void start();

  uint16_t port() const;

  // Answers new requests 503, lets those in flight finish for at most `grace`, and stops.
  // Returns how many were still running when the grace ran out.
  int stop(std::chrono::milliseconds grace);

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace conduit::app
