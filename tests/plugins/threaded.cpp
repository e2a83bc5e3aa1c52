// A test plugin built with the C++ SDK that does a delivery's work on threads of its own, as ABI
// 1.4 allows: each thread asks the state machines (Host::next and Host::path with the delivery),
// puts and reads checkpoints, takes and releases leases, claims the event's title and reports
// what it saw; process() joins them and answers OK only when every answer was right. Whatever
// went wrong is its FAILED message, so that a test sees the first wrong answer.
//
// The event's kind chooses the play:
//   "work"  as above, on kThreads threads, which also share one lease (never two holders);
//   "keep"  a lease taken on a thread of the plugin's own and one taken on the process() thread,
//           neither released: the host releases the second when process() returns, not the first.
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <conduit/sdk.hpp>

namespace {

constexpr int kThreads = 6;
constexpr std::chrono::milliseconds kTtl{30000};

}  // namespace

class Threaded : public conduit::sdk::Processor {
 public:
  conduit::sdk::Result process(const conduit::sdk::Event& event,
                               conduit::sdk::Delivery& delivery) override {
    if (event.kind() == "keep") return keep(event);
    std::mutex errors_mutex;
    std::vector<std::string> errors;
    auto wrong = [&](std::string what) {
      std::lock_guard lock(errors_mutex);
      errors.push_back(std::move(what));
    };
    std::atomic<int> holders{0};
    std::atomic<int> most_at_once{0};
    const std::string claim_name(event.title());

    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        try {
          work(i, delivery, claim_name, holders, most_at_once, wrong);
        } catch (const std::exception& e) {
          wrong("thread " + std::to_string(i) + ": " + e.what());
        }
      });
    }
    for (auto& thread : threads)
      thread.join();
    if (most_at_once.load() > 1) wrong("two threads held the shared lease at once");
    if (!errors.empty()) return conduit::sdk::Result::failed(errors.front());
    return conduit::sdk::Result::ok();
  }

 private:
  template <typename Wrong>
  void work(int i, conduit::sdk::Delivery& delivery, const std::string& claim_name,
            std::atomic<int>& holders, std::atomic<int>& most_at_once, Wrong& wrong) {
    const std::string me = "thread " + std::to_string(i) + ": ";
    for (int round = 0; round < 3; ++round) {
      auto next = host().next(delivery, "SOC", "To Do", "next");
      if (!next.next || next.next->status != "In Progress") wrong(me + "next: " + next.error);
      auto missing = host().next(delivery, "SOC", "Blocked", "next");
      if (missing.next || missing.error.empty()) wrong(me + "next of Blocked had an answer");
      auto path = host().path(delivery, "SOC", "To Do", "in_progress");
      if (!path || path->size() != 1 || path->front() != "next") wrong(me + "path");

      const std::string key = "t" + std::to_string(i) + "." + std::to_string(round);
      delivery.put(key, "v" + key);
      if (delivery.get(key) != "v" + key) wrong(me + "checkpoint " + key + " read back wrong");
    }

    auto own = host().lease("own-" + std::to_string(i), kTtl, std::chrono::milliseconds(0));
    if (!own) wrong(me + "its own lease was busy");
    if (own && !own->release()) wrong(me + "its own lease was not released");
    for (int round = 0; round < 3; ++round) {
      auto shared = host().lease("shared", kTtl, std::chrono::milliseconds(20000));
      if (!shared) {
        wrong(me + "the shared lease stayed busy");
        continue;
      }
      const int now = ++holders;
      int seen = most_at_once.load();
      while (now > seen && !most_at_once.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      --holders;
      if (!shared->release()) wrong(me + "the shared lease was not ours at its release");
    }

    auto claim = host().claim(delivery, claim_name);
    host().report(delivery, "claimed",
                  {{"thread", i},
                   {"name", claim_name},
                   {"claim", claim.ours ? std::string("ours") : claim.owner}});
  }

  conduit::sdk::Result keep(const conduit::sdk::Event& event) {
    const auto* api = host().api();
    const std::string on_thread = std::string(event.title()) + "-on-thread";
    const std::string on_process = std::string(event.title()) + "-on-process";
    conduit_status thread_status = CONDUIT_STATUS_ERROR;
    std::thread thread([&] {
      conduit_str token{};
      thread_status =
          api->lease_acquire(host().handle(), conduit::sdk::str(on_thread), 60000, 0, &token);
      if (thread_status == CONDUIT_STATUS_OK && token.size != 32)
        thread_status = CONDUIT_STATUS_ERROR;
    });
    thread.join();
    conduit_str token{};
    const auto process_status =
        api->lease_acquire(host().handle(), conduit::sdk::str(on_process), 60000, 0, &token);
    if (thread_status != CONDUIT_STATUS_OK || process_status != CONDUIT_STATUS_OK) {
      return conduit::sdk::Result::failed("a lease was not taken");
    }
    return conduit::sdk::Result::ok();
  }
};

CONDUIT_PLUGIN(Threaded, "threaded", "1.0.0", CONDUIT_CAPABILITY_THREAD_SAFE)
