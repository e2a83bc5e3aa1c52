// A test plugin whose answers the test writes into the pull request's title, one word per
// worker: "first=retry-once second=fail". Each call appends a line to the file named by the
// app-config key `scripted_log`, so that tests in another process see exactly which calls were
// made:  <worker> <delivery id> <attempt> <pid> <checkpoint> <calls running, this one included>
// shutdown() and the destructor (the ABI's destroy) write `<worker> - 0 <pid> shutdown 0` and
// `... destroyed 0`.
//
// Built twice: `scripted` is marked thread-safe, `scripted_serial` (SCRIPTED_SERIAL) is not.
//
// Actions (a worker without a word answers ok):
//   ok            ok
//   retry-once    retry on the first attempt, ok after
//   retry-after   retry asking for 300 ms on the first attempt, ok after
//   retry-always  retry
//   fail          failed for good
//   slow          the first call keeps a checkpoint, then takes 4 s; a later call sees the
//                 checkpoint and answers ok at once
//   nap           takes 100 ms, then ok
//   crash         aborts the process
//   mark-fail     the first call keeps a checkpoint, then fails for good; a later call that
//                 sees the checkpoint (a replay of the dead letter) answers ok
//
// Reports (ABI 1.2): each line `report <worker> <json>` of the pull request's body is reported
// as is by that worker's every call, whatever its action, before it answers.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <conduit/sdk.hpp>

class Scripted : public conduit::sdk::Processor {
 public:
  static constexpr const char* kConfigKeys[] = {"scripted_log", nullptr};

  void configure(const conduit::sdk::Config& config) override {
    worker_ = config.worker_name;
    log_path_ = host().config("scripted_log").value_or("");
    if (log_path_.empty()) throw std::invalid_argument("scripted needs scripted_log");
  }

  ~Scripted() override { record("-", 0, "destroyed", 0); }

  void shutdown() override { record("-", 0, "shutdown", 0); }

  conduit::sdk::Result process(const conduit::sdk::Event& event,
                               conduit::sdk::Delivery& delivery) override {
    // Across every instance of the library: what the host's serialization is about.
    static std::atomic<int> running{0};
    struct Running {
      int now = ++running;
      ~Running() { --running; }
    } call;
    const auto checkpoint = delivery.get("started");
    record(event.deliveryId(), event.attempt(), checkpoint.value_or("-"), call.now);
    reportFor(event.body(), delivery);
    const std::string action = actionFor(event.title());
    const bool first = event.attempt() == 1;
    if (action == "retry-once" && first) return conduit::sdk::Result::retry("asked to retry once");
    if (action == "retry-after" && first) {
      return conduit::sdk::Result::retry("busy", std::chrono::milliseconds(300));
    }
    if (action == "retry-always") return conduit::sdk::Result::retry("never ready");
    if (action == "fail") return conduit::sdk::Result::failed("told to fail");
    if (action == "nap") std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (action == "crash") std::abort();
    if (action == "mark-fail" && !checkpoint) {
      delivery.put("started", std::to_string(::getpid()));
      return conduit::sdk::Result::failed("marked, then failed");
    }
    if (action == "slow" && !checkpoint) {
      delivery.put("started", std::to_string(::getpid()));
      std::this_thread::sleep_for(std::chrono::seconds(4));
    }
    return conduit::sdk::Result::ok();
  }

 private:
  std::string actionFor(std::string_view title) const {
    const std::string key = worker_ + "=";
    size_t at = 0;
    while ((at = title.find(key, at)) != std::string_view::npos) {
      if (at == 0 || title[at - 1] == ' ') {
        const size_t start = at + key.size();
        const size_t end = title.find(' ', start);
        return std::string(title.substr(start, end == std::string_view::npos ? end : end - start));
      }
      at += key.size();
    }
    return "ok";
  }

  void reportFor(std::string_view body, conduit::sdk::Delivery& delivery) const {
    const std::string prefix = "report " + worker_ + " ";
    while (!body.empty()) {
      const size_t end = body.find('\n');
      const std::string_view line = body.substr(0, end);
      if (line.substr(0, prefix.size()) == prefix) {
        host().reportJson(delivery, line.substr(prefix.size()));
      }
      if (end == std::string_view::npos) break;
      body.remove_prefix(end + 1);
    }
  }

  void record(std::string_view delivery, uint32_t attempt, const std::string& checkpoint,
              int running) const {
    const std::string line = worker_ + " " + std::string(delivery) + " " + std::to_string(attempt) +
                             " " + std::to_string(::getpid()) + " " + checkpoint + " " +
                             std::to_string(running) + "\n";
    // One write() with O_APPEND: lines from several processes never interleave.
    const int fd = ::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
  }

  std::string worker_;
  std::string log_path_;
};

#ifdef SCRIPTED_SERIAL
CONDUIT_PLUGIN(Scripted, "scripted_serial", "1.0.0", 0)
#else
CONDUIT_PLUGIN(Scripted, "scripted", "1.0.0", CONDUIT_CAPABILITY_THREAD_SAFE)
#endif
