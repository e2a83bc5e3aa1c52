#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace conduit::queue {

// A delivery accepted from a code host, as it goes onto the queue. `payload` is the JSON
// document itself (a form-encoded body's `payload` field already decoded).
struct Delivery {
  std::string_view provider;
  std::string_view repo_id;
  std::string_view repo_path;
  std::string_view event;        // the code host's event type: pull_request, release, push, ...
  std::string_view delivery_id;  // the code host's unique id for this delivery
  int64_t received_at_ms = 0;    // Unix time in milliseconds
  std::string_view payload;
};

// Now, as Unix time in milliseconds: the clock of received_at_ms, and of when a retry is due.
inline int64_t unixTimeMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A delivery id as code hosts write them (GitHub: a GUID): 1 to 128 of [A-Za-z0-9._:-]. Also
// keeps odd bytes out of Redis keys and log lines.
bool isValidDeliveryId(std::string_view id);

}  // namespace conduit::queue
