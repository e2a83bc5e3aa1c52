#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace conduit::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// One sample of a family at scrape time: `name` is the family's name plus a suffix (`_bucket`,
// `_sum`, `_count` for histograms), `labels` in the family's order (`le` last for buckets).
struct Sample {
  std::string suffix;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// A family as it is rendered: what collectors answer and what the registry's own families
// become at each scrape.
struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

// Prometheus's text format 0.0.4: a HELP and a TYPE line for each family that has samples, then
// its samples. HELP text and label values are escaped; a family without samples is left out (as
// the official clients do), since a TYPE line alone says nothing.
std::string renderText(const std::vector<FamilySnapshot>& families);

// A number as the text format writes it: integers without a decimal point, others in their
// shortest exact form, and `+Inf`, `-Inf`, `NaN`.
std::string formatValue(double value);

// A monotonic count of events. Lock-free.
class Counter {
 public:
  void inc(uint64_t delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Lock-free.
class Gauge {
 public:
  void set(double value);
  void add(double delta);
  double value() const;

 private:
  std::atomic<uint64_t> bits_{0};  // the double's bits: std::atomic<double> has no fetch_add
};

// Observations counted into buckets by upper bound, with their sum. Lock-free: one atomic add
// for the bucket and one compare-and-swap loop for the sum per observation.
class Histogram {
 public:
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);

  void observe(double value);

  // Cumulative counts per bound (the last one is +Inf, which is also the count), and the sum.
  std::vector<uint64_t> cumulativeCounts() const;
  double sum() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;  // ascending, +Inf not included
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;    // per bucket, +Inf's last; not cumulative
  std::atomic<uint64_t> sum_bits_{0};
};

// A metric with labels: one child per combination of label values, made on first use and kept
// for the family's life (so a reference to a child stays valid). Finding a child takes no lock
// once the calling thread has found it before: each thread keeps its own cache of the children
// it used, and only a child's first use on a thread takes the family's mutex. Keep label
// values bounded (route patterns, not paths): each combination is a series forever.
template <typename Child>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<Child>()> make);
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  // The child of these label values, in the order of the family's label names.
  Child& labels(std::initializer_list<std::string_view> values);
  Child& labels(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labelNames() const { return label_names_; }

  // Each child with its label values, in their sorted order.
  void forEach(
      const std::function<void(const std::vector<std::string>&, const Child&)>& visit) const;

 private:
  template <typename Values>
  Child& find(const Values& values);

  const uint64_t id_;  // unique in the process, never reused: keys the threads' caches
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<Child>()> make_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Child>> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

// Called at each scrape for families whose values are read then (from /proc, from Redis, from
// the plugins' counters). It must not throw; one that cannot read its source answers what it
// knows (`conduit_redis_up 0`) rather than failing the scrape.
using Collector = std::function<std::vector<FamilySnapshot>()>;

// The metrics of one process: families made here, and collectors. Thread-safe.
class Registry {
 public:
  CounterFamily& counter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  // `bounds`: the buckets' upper bounds, ascending; +Inf is added.
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> label_names, std::vector<double> bounds);

  void addCollector(Collector collector);

  // Every family, the registry's own in the order they were made, then the collectors'.
  std::vector<FamilySnapshot> collect() const;

  // collect() in the text format.
  std::string render() const { return renderText(collect()); }

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  // The order families were made in: (type, index in its vector).
  std::vector<std::pair<MetricType, size_t>> order_;
  std::vector<Collector> collectors_;
};

// Buckets for request durations in seconds: from half a millisecond (an ingress answer) to 10 s.
std::vector<double> requestDurationBuckets();

}  // namespace conduit::metrics
