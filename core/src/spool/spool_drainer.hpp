#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "queue/delivery.hpp"
#include "queue/delivery_queue.hpp"
#include "spool/spool.hpp"

namespace conduit::spool {

// Moves the spool's records into the stream, oldest first, whenever Redis takes them: a thread
// of its own, through the same enqueue step as the payload route, so that a record whose
// delivery id Redis already has (queued before Redis's answer was lost, or spooled twice) is
// dropped as a duplicate. A file is removed once each of its records is in Redis.
//
// Redis going away mid-file stops the pass at that record; the next pass starts again at it
// (a restarted process starts again at the file's first record, whose deliveries Redis finds
// duplicates). Until then it tries again after a wait that grows from 250 ms to 5 s.
class SpoolDrainer {
 public:
  using Enqueue = std::function<queue::EnqueueResult(const queue::Delivery&)>;

  SpoolDrainer(Spool& spool, Enqueue enqueue);
  ~SpoolDrainer();  // stops
  SpoolDrainer(const SpoolDrainer&) = delete;
  SpoolDrainer& operator=(const SpoolDrainer&) = delete;

  void start();
  // Waits for the record being moved, at most one Redis call's timeout.
  void stop();

  // One pass over the spool, as the thread makes it: true when it is empty after it, false when
  // Redis refused (or a file could not be read) and records are left.
  bool drainOnce();

  // Whether the last pass left records because Redis refused them: the server is spooling.
  bool refused() const { return refused_.load(); }

 private:
  void run();
  // Moves one file's records; false when one was refused (where it stopped is remembered).
  bool drainFile(const std::string& path);

  Spool& spool_;
  Enqueue enqueue_;
  std::map<std::string, uint64_t> resume_at_;  // per file, the first record not yet in Redis
  std::set<std::string> unreadable_;           // files that could be neither read nor moved aside
  std::atomic<bool> refused_{false};
  // Since the spool was last empty, for the line that says it was drained.
  uint64_t moved_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t damaged_ = 0;
  std::string last_refusal_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace conduit::spool
