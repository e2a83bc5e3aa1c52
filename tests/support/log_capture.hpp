#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace conduit::testing {

// The lines spdlog writes while it lives, for tests that check what is logged (and what is
// not: a secret).
class LogCapture {
 public:
  // Info lines are captured; the console keeps showing only what it showed before.
  LogCapture() : sink_(std::make_shared<Sink>()), level_(spdlog::default_logger()->level()) {
    auto& sinks = spdlog::default_logger()->sinks();
    for (auto& sink : sinks)
      sink->set_level(level_);
    sinks.push_back(sink_);
    spdlog::default_logger()->set_level(spdlog::level::info);
  }
  ~LogCapture() {
    spdlog::default_logger()->set_level(level_);
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    for (auto& sink : sinks)
      sink->set_level(spdlog::level::trace);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() { return sink_->text(); }

 private:
  class Sink : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::string text() {
      std::lock_guard lock(mutex_);
      return text_;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
      spdlog::memory_buf_t formatted;
      formatter_->format(message, formatted);
      text_.append(formatted.data(), formatted.size());
    }
    void flush_() override {}

   private:
    std::string text_;
  };

  std::shared_ptr<Sink> sink_;
  spdlog::level::level_enum level_;
};

}  // namespace conduit::testing
