// The processor bench/worker.sh drives: does nothing but note, for deliveries whose id is
// `t<Unix microseconds>-<n>` (stamped by Redis when the delivery was queued), how long the
// delivery took from the queue to this call. At shutdown it writes those latencies, one per line
// in microseconds, to the file named by the app-config key `bench_latency_file`.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <conduit/sdk.hpp>

class NoopProcessor : public conduit::sdk::Processor {
 public:
  static constexpr const char* kConfigKeys[] = {"bench_latency_file", nullptr};

  void configure(const conduit::sdk::Config&) override {
    path_ = host().config("bench_latency_file").value_or("");
  }

  conduit::sdk::Result process(const conduit::sdk::Event& event, conduit::sdk::Delivery&) override {
    const auto id = event.deliveryId();
    if (!path_.empty() && id.size() > 1 && id[0] == 't') {
      const long long queued_us = std::strtoll(std::string(id.substr(1)).c_str(), nullptr, 10);
      const long long now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      std::lock_guard lock(mutex_);
      latencies_.push_back(now_us - queued_us);
    }
    return conduit::sdk::Result::ok();
  }

  void shutdown() override {
    if (path_.empty()) return;
    std::lock_guard lock(mutex_);
    std::ofstream out(path_);
    for (long long latency : latencies_)
      out << latency << "\n";
  }

 private:
  std::string path_;
  std::mutex mutex_;
  std::vector<long long> latencies_;
};

CONDUIT_PLUGIN(NoopProcessor, "bench_noop", "1.0.0", CONDUIT_CAPABILITY_THREAD_SAFE)
