#include "http/refused_requests.hpp"

#include <chrono>
#include <string_view>

namespace conduit::http {
namespace {

// What the client sent, as the ring keeps it: cut, and with anything but printable ASCII
// replaced, so that a client cannot make the answer invalid JSON or fill memory (200 entries
// of at most a few hundred bytes each).
std::string printable(std::string_view s, size_t max_chars) {
  std::string out;
  for (char c : s.substr(0, max_chars)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u > 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RefusedRequests::RefusedRequests(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
  ring_.reserve(capacity_);
}

bool RefusedRequests::worthKeeping(const AnsweredRequest& answer) {
  if (answer.status < 400) return false;
  if (answer.route.empty()) {
    // No route served it: refused before routing, or an unknown path or method.
    return answer.status != 404 && answer.status != 405;
  }
  // The payload routes (`.../:provider/:repo_id/payload`) are the ones code hosts call.
  if (endsWith(answer.route, "/payload")) return true;
  return answer.status == 401 || answer.status == 403;
}

void RefusedRequests::observe(const AnsweredRequest& answer) {
  if (!worthKeeping(answer)) return;
  RefusedRequest refused;
  refused.at_ms = nowMs();
  refused.method = printable(answer.method, 16);
  refused.path = printable(answer.path, 256);
  refused.route = std::string(answer.route);
  refused.status = answer.status;
  refused.error = std::string(answer.error);
  refused.delivery = printable(answer.delivery, 128);
  refused.source = printable(answer.peer, 64);
  add(std::move(refused));
}

void RefusedRequests::add(RefusedRequest refused) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(refused));
  } else {
    ring_[next_] = std::move(refused);
  }
  next_ = (next_ + 1) % capacity_;
}

std::vector<RefusedRequest> RefusedRequests::newestFirst() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<RefusedRequest> out;
  out.reserve(ring_.size());
  // next_ is where the oldest is (once full) and one past the newest.
  for (size_t i = 0; i < ring_.size(); ++i)
    out.push_back(ring_[(next_ + ring_.size() - 1 - i) % ring_.size()]);
  return out;
}

}  // namespace conduit::http
