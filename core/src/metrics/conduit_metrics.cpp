#include "metrics/conduit_metrics.hpp"

#include <charconv>

#include "metrics/process_collector.hpp"

namespace conduit::metrics {
namespace {

std::string_view receivedName(Received outcome) {
  switch (outcome) {
    case Received::kQueued:
      return "queued";
    case Received::kDuplicate:
      return "duplicate";
    case Received::kPing:
      return "ping";
    case Received::kRefused:
      return "refused";
    case Received::kSpooled:
      return "spooled";
  }
  return "refused";
}

std::string_view processedName(Processed outcome) {
  switch (outcome) {
    case Processed::kOk:
      return "ok";
    case Processed::kRetry:
      return "retry";
    case Processed::kFailed:
      return "failed";
  }
  return "failed";
}

}  // namespace

ConduitMetrics::ConduitMetrics(std::string_view version, std::string_view abi)
    : http_requests_(registry_.counter("conduit_http_requests_total",
                                       "HTTP requests answered, by route pattern and status code.",
                                       {"route", "code"})),
      http_duration_(
          registry_.histogram("conduit_http_request_duration_seconds",
                              "Time from a request's first byte to its answer, by route pattern.",
                              {"route"}, requestDurationBuckets())),
      received_(registry_.counter(
          "conduit_deliveries_received_total",
          "Deliveries the payload route answered: queued, duplicate, ping, refused or spooled.",
          {"provider", "event", "outcome"})),
      processed_(
          registry_.counter("conduit_deliveries_processed_total",
                            "Workers' answers to delivery attempts: ok, retry, or failed for good.",
                            {"worker", "outcome"})),
      latency_(
          registry_.histogram("conduit_delivery_latency_seconds",
                              "Time from a delivery's acceptance to a worker's being done with it.",
                              {"worker"}, deliveryLatencyBuckets())) {
  registry_
      .gauge("conduit_build_info", "Conduit's version and the plugin ABI it offers (always 1).",
             {"version", "abi"})
      .labels({version, abi})
      .set(1);
  registry_.addCollector(collectProcessMetrics);
}

void ConduitMetrics::answered(std::string_view route, int status, double seconds) {
  if (route.empty()) route = "unmatched";
  char code[8] = {};
  const auto end = std::to_chars(code, code + sizeof code, status).ptr;
  http_requests_.labels({route, std::string_view(code, static_cast<size_t>(end - code))}).inc();
  http_duration_.labels({route}).observe(seconds);
}

void ConduitMetrics::received(std::string_view provider, std::string_view event, Received outcome) {
  received_.labels({provider, event, receivedName(outcome)}).inc();
}

void ConduitMetrics::processed(std::string_view worker, Processed outcome) {
  processed_.labels({worker, processedName(outcome)}).inc();
}

void ConduitMetrics::deliveryLatency(std::string_view worker, double seconds) {
  latency_.labels({worker}).observe(seconds);
}

void ConduitMetrics::watchSpool(std::function<SpoolSize()> size) {
  registry_.addCollector([size = std::move(size)] {
    const SpoolSize now = size();
    auto gauge = [](std::string name, std::string help, uint64_t value) {
      return FamilySnapshot{std::move(name),
                            std::move(help),
                            MetricType::kGauge,
                            {Sample{"", {}, static_cast<double>(value)}}};
    };
    return std::vector<FamilySnapshot>{
        gauge("conduit_spool_bytes",
              "Bytes of the local spool's files: deliveries waiting for Redis, and damaged "
              "stretches not yet set aside.",
              now.bytes),
        gauge("conduit_spool_records",
              "Deliveries in the local spool, waiting to be moved into Redis.", now.records)};
  });
}

std::vector<double> deliveryLatencyBuckets() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
}

}  // namespace conduit::metrics
