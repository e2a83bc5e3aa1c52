#include "metrics/registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

namespace conduit::metrics {
namespace {

uint64_t toBits(double value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

double fromBits(uint64_t bits) {
  double value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

void addTo(std::atomic<uint64_t>& bits, double delta) {
  uint64_t seen = bits.load(std::memory_order_relaxed);
  while (!bits.compare_exchange_weak(seen, toBits(fromBits(seen) + delta),
                                     std::memory_order_relaxed)) {
  }
}

std::atomic<uint64_t> g_next_family_id{1};

// Each thread's children found before, by family id and label values: the lock-free path of
// Family::labels(). Families are never destroyed while their children are in use, and an id is
// never reused, so an entry of a family gone is only never found again.
struct ThreadCache {
  std::unordered_map<std::string, void*> children;
  std::string key;  // reused, so that a look-up allocates nothing once it has grown
};

ThreadCache& threadCache() {
  thread_local ThreadCache cache;
  return cache;
}

template <typename Values>
void makeKey(std::string& key, uint64_t id, const Values& values) {
  key.assign(reinterpret_cast<const char*>(&id), sizeof id);
  for (std::string_view value : values) {
    const uint32_t size = static_cast<uint32_t>(value.size());
    key.append(reinterpret_cast<const char*>(&size), sizeof size);
    key.append(value);
  }
}

// HELP text: backslash and newline escaped.
std::string escapeHelp(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// A label value: backslash, double quote and newline escaped.
void appendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string_view typeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

template <typename Child>
void checkLabels(const Family<Child>& family, size_t count) {
  if (count != family.labelNames().size()) {
    throw std::invalid_argument(fmt::format("metric {} has {} label(s), given {} value(s)",
                                            family.name(), family.labelNames().size(), count));
  }
}

std::vector<std::pair<std::string, std::string>> labelPairs(
    const std::vector<std::string>& names, const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i)
    pairs.emplace_back(names[i], values[i]);
  return pairs;
}

}  // namespace

std::string formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{}", value);  // the shortest form that reads back exactly
}

std::string renderText(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const auto& family : families) {
    if (family.samples.empty()) continue;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, escapeHelp(family.help),
                       family.name, typeName(family.type));
    for (const auto& sample : family.samples) {
      out += family.name;
      out += sample.suffix;
      if (!sample.labels.empty()) {
        out += '{';
        bool first = true;
        for (const auto& [name, value] : sample.labels) {
          if (!first) out += ',';
          first = false;
          out += name;
          out += "=\"";
          appendLabelValue(out, value);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      out += formatValue(sample.value);
      out += '\n';
    }
  }
  return out;
}

void Gauge::set(double value) {
  bits_.store(toBits(value), std::memory_order_relaxed);
}

void Gauge::add(double delta) {
  addTo(bits_, delta);
}

double Gauge::value() const {
  return fromBits(bits_.load(std::memory_order_relaxed));
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_->size() + 1)) {
  for (size_t i = 0; i <= bounds_->size(); ++i)
    counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // A bucket counts the observations up to and including its bound.
  const auto bucket = static_cast<size_t>(
      std::lower_bound(bounds_->begin(), bounds_->end(), value) - bounds_->begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  addTo(sum_bits_, value);
}

std::vector<uint64_t> Histogram::cumulativeCounts() const {
  std::vector<uint64_t> cumulative(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    cumulative[i] = total;
  }
  return cumulative;
}

double Histogram::sum() const {
  return fromBits(sum_bits_.load(std::memory_order_relaxed));
}

template <typename Child>
Family<Child>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                      std::function<std::unique_ptr<Child>()> make)
    : id_(g_next_family_id.fetch_add(1)),
      name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      make_(std::move(make)) {}

template <typename Child>
template <typename Values>
Child& Family<Child>::find(const Values& values) {
  checkLabels(*this, values.size());
  ThreadCache& cache = threadCache();
  makeKey(cache.key, id_, values);
  if (auto it = cache.children.find(cache.key); it != cache.children.end()) {
    return *static_cast<Child*>(it->second);
  }
  Child* child = nullptr;
  {
    std::lock_guard lock(mutex_);
    std::vector<std::string> key(values.begin(), values.end());
    auto it = children_.find(key);
    if (it == children_.end()) it = children_.emplace(std::move(key), make_()).first;
    child = it->second.get();
  }
  cache.children.emplace(cache.key, child);
  return *child;
}

template <typename Child>
Child& Family<Child>::labels(std::initializer_list<std::string_view> values) {
  return find(values);
}

template <typename Child>
Child& Family<Child>::labels(const std::vector<std::string>& values) {
  return find(values);
}

template <typename Child>
void Family<Child>::forEach(
    const std::function<void(const std::vector<std::string>&, const Child&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& [values, child] : children_)
    visit(values, *child);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

CounterFamily& Registry::counter(std::string name, std::string help,
                                 std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  order_.emplace_back(MetricType::kCounter, counters_.size());
  return *counters_.emplace_back(
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names),
                                      [] { return std::make_unique<Counter>(); }));
}

GaugeFamily& Registry::gauge(std::string name, std::string help,
                             std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  order_.emplace_back(MetricType::kGauge, gauges_.size());
  return *gauges_.emplace_back(
      std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names),
                                    [] { return std::make_unique<Gauge>(); }));
}

HistogramFamily& Registry::histogram(std::string name, std::string help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  auto shared = std::make_shared<const std::vector<double>>(std::move(bounds));
  std::lock_guard lock(mutex_);
  order_.emplace_back(MetricType::kHistogram, histograms_.size());
  return *histograms_.emplace_back(
      std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(label_names),
                                        [shared] { return std::make_unique<Histogram>(shared); }));
}

void Registry::addCollector(Collector collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::vector<FamilySnapshot> Registry::collect() const {
  std::vector<FamilySnapshot> families;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [type, index] : order_) {
      FamilySnapshot snapshot;
      snapshot.type = type;
      if (type == MetricType::kCounter) {
        const auto& family = *counters_[index];
        snapshot.name = family.name();
        snapshot.help = family.help();
        family.forEach([&](const std::vector<std::string>& values, const Counter& counter) {
          snapshot.samples.push_back(
              {"", labelPairs(family.labelNames(), values), static_cast<double>(counter.value())});
        });
      } else if (type == MetricType::kGauge) {
        const auto& family = *gauges_[index];
        snapshot.name = family.name();
        snapshot.help = family.help();
        family.forEach([&](const std::vector<std::string>& values, const Gauge& gauge) {
          snapshot.samples.push_back({"", labelPairs(family.labelNames(), values), gauge.value()});
        });
      } else {
        const auto& family = *histograms_[index];
        snapshot.name = family.name();
        snapshot.help = family.help();
        family.forEach([&](const std::vector<std::string>& values, const Histogram& histogram) {
          auto labels = labelPairs(family.labelNames(), values);
          const auto counts = histogram.cumulativeCounts();
          const auto& bounds = histogram.bounds();
          for (size_t i = 0; i < counts.size(); ++i) {
            auto with_le = labels;
            with_le.emplace_back(
                "le", formatValue(i < bounds.size() ? bounds[i]
                                                    : std::numeric_limits<double>::infinity()));
            snapshot.samples.push_back(
                {"_bucket", std::move(with_le), static_cast<double>(counts[i])});
          }
          snapshot.samples.push_back({"_sum", labels, histogram.sum()});
          snapshot.samples.push_back(
              {"_count", std::move(labels), static_cast<double>(counts.back())});
        });
      }
      families.push_back(std::move(snapshot));
    }
    collectors = collectors_;
  }
  // Outside the lock: a collector may take its time (Redis, bounded by its own timeout).
  for (const auto& collector : collectors) {
    for (auto& family : collector())
      families.push_back(std::move(family));
  }
  return families;
}

std::vector<double> requestDurationBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace conduit::metrics
