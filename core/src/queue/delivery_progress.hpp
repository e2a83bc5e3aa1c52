#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace conduit::queue {

// What is known of a delivery across its attempts, kept in Redis between them so that a worker
// process that takes the delivery over after a crash goes on where the last one stopped:
// conduit::progress::<entry id>, a hash, erased when the delivery is acknowledged.
struct DeliveryProgress {
  int attempts = 0;                           // attempts that ended (answered, or cut short)
  int started = 0;                            // the last attempt that started: more than
                                              // `attempts` when its process died during it
  std::set<std::string> done;                 // workers that answered ok: never called again
  std::map<std::string, std::string> failed;  // workers that failed for good, with why
  int64_t due_ms = 0;                         // the next attempt starts no earlier (Unix ms)
  std::string last_error;                     // the last retry's reason, for the dead letter
};

// A worker that failed for good on a delivery: one dead-letter entry each.
struct FailedWorker {
  std::string worker;
  std::string error;
};

}  // namespace conduit::queue
