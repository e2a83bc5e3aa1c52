#include "spool/spool_drainer.hpp"

#include <algorithm>
#include <optional>

#include <spdlog/spdlog.h>

#include "spool/spool_error.hpp"
#include "store/redis_connection.hpp"

namespace conduit::spool {
namespace {

constexpr std::chrono::milliseconds kIdleCheck{200};
constexpr std::chrono::milliseconds kFirstRetry{250};
constexpr std::chrono::milliseconds kLongestRetry{5000};

}  // namespace

SpoolDrainer::SpoolDrainer(Spool& spool, Enqueue enqueue)
    : spool_(spool), enqueue_(std::move(enqueue)) {}

SpoolDrainer::~SpoolDrainer() {
  stop();
}

void SpoolDrainer::start() {
  thread_ = std::thread([this] { run(); });
}

void SpoolDrainer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SpoolDrainer::run() {
  auto wait = kIdleCheck;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, wait, [this] { return stopping_; })) {
    if (!spool_.holdsFiles()) {
      wait = kIdleCheck;
      continue;
    }
    lock.unlock();
    const bool empty = drainOnce();
    lock.lock();
    // Redis away: try again soon, then less often, so that a long outage costs little.
    wait = empty ? kIdleCheck
                 : (refused_ ? std::min(kLongestRetry, std::max(kFirstRetry, wait * 2))
                             : kLongestRetry);
  }
}

bool SpoolDrainer::drainOnce() {
  // Files no append touches any more first; the one being appended to is sealed only when they
  // are all in Redis, so that an outage does not make a file per retry.
  for (bool seal : {false, true}) {
    for (const auto& path : spool_.files(seal)) {
      try {
        if (!drainFile(path)) return false;
      } catch (const std::exception& e) {
        spdlog::error("spool {}: {}; trying again later", spool_.dir(), e.what());
        refused_ = false;
        return false;
      }
    }
  }
  refused_ = false;
  if (!spool_.holdsFiles()) spool_.markDrained();
  if (spool_.records() == 0 && !spool_.holdsFiles() && (moved_ + duplicates_ + damaged_) > 0) {
    spdlog::info(
        "spool {} drained: {} spooled deliveries moved into the stream, {} of them "
        "dropped there as duplicates{}",
        spool_.dir(), moved_ + duplicates_, duplicates_,
        damaged_ == 0
            ? std::string()
            : fmt::format("; {} unreadable stretches kept in {}/corrupt", damaged_, spool_.dir()));
    moved_ = duplicates_ = damaged_ = 0;
    last_refusal_.clear();
  }
  return !spool_.holdsFiles();
}

bool SpoolDrainer::drainFile(const std::string& path) {
  if (unreadable_.count(path) > 0) return true;  // could not even be moved aside: skipped
  const auto resume = resume_at_.find(path);
  std::optional<SpoolFileReader> reader;
  try {
    reader.emplace(path, resume == resume_at_.end() ? 0 : resume->second,
                   [this](const Damage& damage) {
                     ++damaged_;
                     spool_.setAside(damage);
                   });
  } catch (const SpoolError& e) {
    // A file that cannot be opened (left by another user, say) must not hold up the others.
    ++damaged_;
    resume_at_.erase(path);
    if (!spool_.setFileAside(path, e.what())) unreadable_.insert(path);
    return true;
  }
  SpooledDelivery record;
  while (reader->next(record)) {
    queue::EnqueueResult result;
    try {
      result = enqueue_(record.view());
    } catch (const store::RedisUnavailable& e) {
      resume_at_[path] = reader->recordOffset();
      refused_ = true;
      if (last_refusal_ != e.what()) {
        spdlog::info(
            "spool {}: Redis does not take the spooled deliveries yet ({}); {} are "
            "waiting",
            spool_.dir(), e.what(), spool_.records());
        last_refusal_ = e.what();
      }
      return false;
    } catch (...) {
      resume_at_[path] = reader->recordOffset();
      throw;
    }
    (result.duplicate ? duplicates_ : moved_) += 1;
    spool_.recordDrained();
  }
  resume_at_.erase(path);
  spool_.removeFile(path);
  return true;
}

}  // namespace conduit::spool
