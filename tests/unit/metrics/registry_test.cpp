#include "metrics/registry.hpp"

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "metrics/conduit_metrics.hpp"

using conduit::metrics::FamilySnapshot;
using conduit::metrics::formatValue;
using conduit::metrics::MetricType;
using conduit::metrics::Registry;
using conduit::metrics::renderText;

TEST_CASE("metrics: values - integers bare, others shortest, infinities and NaN spelt out") {
  CHECK(formatValue(0) == "0");
  CHECK(formatValue(42) == "42");
  CHECK(formatValue(-3) == "-3");
  CHECK(formatValue(0.25) == "0.25");
  CHECK(formatValue(0.005) == "0.005");
  CHECK(formatValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(formatValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(formatValue(std::nan("")) == "NaN");
  CHECK(std::stod(formatValue(1.0 / 3.0)) == 1.0 / 3.0);  // reads back exactly
}

TEST_CASE("metrics: text format - HELP and TYPE lines, then the samples, escaped") {
  FamilySnapshot family{"demo_total",
                        "A help text with \\ and\na newline.",
                        MetricType::kCounter,
                        {{"", {{"path", "a\"b\\c\nd"}, {"code", "200"}}, 3}}};
  CHECK(renderText({family}) ==
        "# HELP demo_total A help text with \\\\ and\\na newline.\n"
        "# TYPE demo_total counter\n"
        "demo_total{path=\"a\\\"b\\\\c\\nd\",code=\"200\"} 3\n");
}

TEST_CASE("metrics: text format - a family without samples is left out") {
  FamilySnapshot empty{"nothing_yet_total", "Nothing.", MetricType::kCounter, {}};
  FamilySnapshot one{"up", "Up.", MetricType::kGauge, {{"", {}, 1}}};
  CHECK(renderText({empty, one}) == "# HELP up Up.\n# TYPE up gauge\nup 1\n");
}

TEST_CASE("metrics: counters and gauges - by label values, sorted, each its own series") {
  Registry registry;
  auto& requests = registry.counter("requests_total", "Requests.", {"route", "code"});
  requests.labels({"/b", "200"}).inc();
  requests.labels({"/a", "404"}).inc(2);
  requests.labels({"/b", "200"}).inc();
  auto& level = registry.gauge("level", "Level.");
  level.labels({}).set(2.5);
  level.labels({}).add(-1);
  CHECK(registry.render() ==
        "# HELP requests_total Requests.\n# TYPE requests_total counter\n"
        "requests_total{route=\"/a\",code=\"404\"} 2\n"
        "requests_total{route=\"/b\",code=\"200\"} 2\n"
        "# HELP level Level.\n# TYPE level gauge\nlevel 1.5\n");
  CHECK_THROWS_AS(requests.labels({"/a"}), std::invalid_argument);
}

TEST_CASE("metrics: histograms - cumulative _bucket{le} up to +Inf, then _sum and _count") {
  Registry registry;
  auto& duration = registry.histogram("op_seconds", "Durations.", {"op"}, {1, 0.5, 2});
  auto& reads = duration.labels({"read"});
  reads.observe(0.5);  // on a bound: counted in that bucket
  reads.observe(0.7);
  reads.observe(3);
  CHECK(registry.render() ==
        "# HELP op_seconds Durations.\n# TYPE op_seconds histogram\n"
        "op_seconds_bucket{op=\"read\",le=\"0.5\"} 1\n"
        "op_seconds_bucket{op=\"read\",le=\"1\"} 2\n"
        "op_seconds_bucket{op=\"read\",le=\"2\"} 2\n"
        "op_seconds_bucket{op=\"read\",le=\"+Inf\"} 3\n"
        "op_seconds_sum{op=\"read\"} 4.2\n"
        "op_seconds_count{op=\"read\"} 3\n");
}

TEST_CASE("metrics: collectors - asked at each scrape, after the registry's own families") {
  Registry registry;
  registry.counter("first_total", "First.").labels({}).inc();
  int asked = 0;
  registry.addCollector([&asked] {
    ++asked;
    return std::vector<FamilySnapshot>{
        {"collected", "Collected.", MetricType::kGauge, {{"", {}, double(asked)}}}};
  });
  CHECK(registry.render().find("first_total 1\n# HELP collected Collected.\n") !=
        std::string::npos);
  CHECK(registry.render().find("collected 2\n") != std::string::npos);
}

TEST_CASE("metrics: many threads counting at once lose nothing") {
  Registry registry;
  auto& counter = registry.counter("hits_total", "Hits.", {"route"});
  auto& histogram = registry.histogram("hit_seconds", "Hit time.", {"route"}, {0.5});
  constexpr int kThreads = 8;
  constexpr int kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string_view route = (i + t) % 2 == 0 ? "/even" : "/odd";
        counter.labels({route}).inc();
        histogram.labels({route}).observe(1);
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  CHECK(counter.labels({"/even"}).value() + counter.labels({"/odd"}).value() ==
        uint64_t{kThreads} * kEach);
  const auto counts = histogram.labels({"/even"}).cumulativeCounts();
  CHECK(counts.back() == uint64_t{kThreads} * kEach / 2);
  CHECK(histogram.labels({"/even"}).sum() == doctest::Approx(kThreads * kEach / 2));
}

TEST_CASE("metrics: Conduit's metrics - route `unmatched` when none served, bounded labels") {
  conduit::metrics::ConduitMetrics metrics("9.9.9", "1.2");
  metrics.answered("", 404, 0.001);
  metrics.answered("/conduit/webhooks/:provider/:repo_id/payload", 202, 0.002);
  metrics.received("github", "pull_request", conduit::metrics::Received::kQueued);
  metrics.processed("jira", conduit::metrics::Processed::kRetry);
  metrics.deliveryLatency("jira", 1.5);
  const std::string text = metrics.render();
  CHECK(text.find("conduit_build_info{version=\"9.9.9\",abi=\"1.2\"} 1\n") != std::string::npos);
  CHECK(text.find("conduit_http_requests_total{route=\"unmatched\",code=\"404\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("conduit_http_request_duration_seconds_bucket{route=\"/conduit/webhooks/"
                  ":provider/:repo_id/payload\",le=\"0.0025\"} 1\n") != std::string::npos);
  CHECK(text.find("conduit_deliveries_received_total{provider=\"github\",event=\"pull_request\","
                  "outcome=\"queued\"} 1\n") != std::string::npos);
  CHECK(text.find("conduit_deliveries_processed_total{worker=\"jira\",outcome=\"retry\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("conduit_delivery_latency_seconds_count{worker=\"jira\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
}
