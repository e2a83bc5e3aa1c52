#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "metrics/registry.hpp"

namespace conduit::metrics {

// How the payload route answered a delivery (conduit_deliveries_received_total's `outcome`).
// kSpooled: Redis could not take it, and it waits in the local spool.
enum class Received { kQueued, kDuplicate, kPing, kRefused, kSpooled };

// How one worker's attempt at a delivery ended (conduit_deliveries_processed_total's
// `outcome`): ok, to be retried, or failed for good (dead-lettered).
enum class Processed { kOk, kRetry, kFailed };

// The metrics of one Conduit process (docs/operations.md, "Metrics and alerts"), and the calls
// that feed them. Everything here is cheap and lock-free once a label combination has been seen
// on the calling thread (see Family): the ingress calls it on every request.
class ConduitMetrics {
 public:
  // `version`: conduit's; `abi`: the plugin ABI's "major.minor", for conduit_build_info. Adds
  // the process collector.
  ConduitMetrics(std::string_view version, std::string_view abi);
  ConduitMetrics(const ConduitMetrics&) = delete;
  ConduitMetrics& operator=(const ConduitMetrics&) = delete;

  // Every answer of an HTTP server: `route` is the route pattern, empty when none served it
  // (labelled `unmatched`).
  void answered(std::string_view route, int status, double seconds);

  // A delivery the payload route answered. `provider` and `event` must be bounded values (a
  // known provider or `unknown`, a known event or `other`).
  void received(std::string_view provider, std::string_view event, Received outcome);

  // One worker's answer to an attempt.
  void processed(std::string_view worker, Processed outcome);

  // A worker finished with a delivery (answered ok), `seconds` after it was accepted.
  void deliveryLatency(std::string_view worker, double seconds);

  // conduit_spool_bytes and conduit_spool_records, read from `size` at each scrape (a server's
  // spool; a process without one reports 0).
  struct SpoolSize {
    uint64_t bytes = 0;
    uint64_t records = 0;
  };
  void watchSpool(std::function<SpoolSize()> size);

  Registry& registry() { return registry_; }
  std::string render() const { return registry_.render(); }

 private:
  Registry registry_;
  CounterFamily& http_requests_;
  HistogramFamily& http_duration_;
  CounterFamily& received_;
  CounterFamily& processed_;
  HistogramFamily& latency_;
};

// Buckets for a delivery's latency from acceptance to done, in seconds: from 50 ms to an hour
// (retries take minutes).
std::vector<double> deliveryLatencyBuckets();

}  // namespace conduit::metrics
