#include "config/worker_settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "config/settings_reader.hpp"

namespace conduit::config {
namespace {

constexpr int64_t kDayMs = 86400000;
constexpr size_t kMostDelays = 100;

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// One delay, `30s`: digits then a unit. nullopt when it is not one.
std::optional<int64_t> parseDelay(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  if (unit != "ms" && unit != "s" && unit != "m" && unit != "h") return std::nullopt;
  // More digits than any delay in range has: out of range, whatever the number.
  if (digits > 9) return std::numeric_limits<int64_t>::max();
  int64_t number = 0;
  std::from_chars(text.data(), text.data() + digits, number);
  if (unit == "ms") return number;
  if (unit == "s") return number * 1000;
  if (unit == "m") return number * 60000;
  if (unit == "h") return number * 3600000;
  return std::nullopt;
}

// A consumer name goes into Redis keys and log lines: printable, no spaces.
bool isValidConsumerName(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-' && c != '@') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::vector<int64_t>> parseDelayList(std::string_view text, std::string& error) {
  std::vector<int64_t> delays;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    const auto delay = parseDelay(item);
    if (!delay) {
      error =
          fmt::format("`{}` is not a delay: a number and a unit (ms, s, m or h), like `30s`", item);
      return std::nullopt;
    }
    if (*delay < 1 || *delay > 7 * kDayMs) {
      error = fmt::format("`{}` is not from 1ms to 168h", item);
      return std::nullopt;
    }
    delays.push_back(*delay);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (delays.size() > kMostDelays) {
    error = fmt::format("{} delays: at most {}", delays.size(), kMostDelays);
    return std::nullopt;
  }
  return delays;
}

const std::set<std::string, std::less<>>& WorkerSettings::knownKeys() {
  static const std::set<std::string, std::less<>> keys = {
      "worker_port",          "worker_concurrency", "retry_schedule",      "retry_initial_ms",
      "retry_max_ms",         "retry_max_attempts", "shutdown_timeout_ms", "claim_idle_ms",
      "checkpoint_ttl_hours", "consumer_name",      "plugin_dir"};
  return keys;
}

WorkerSettings WorkerSettings::load(const AppConfig& config, std::string default_plugin_dir) {
  WorkerSettings s;
  s.plugin_dir = std::move(default_plugin_dir);
  SettingsReader reader(config);
  reader.integer<uint16_t>("worker_port", 0, 65535, s.worker_port, "a port number");
  reader.integer("worker_concurrency", 1, 1024, s.worker_concurrency);
  reader.integer<int64_t>("retry_initial_ms", 1, kDayMs, s.retry_initial_ms);
  reader.integer<int64_t>("retry_max_ms", 1, 7 * kDayMs, s.retry_max_ms);
  reader.integer("retry_max_attempts", 1, 1000, s.retry_max_attempts);
  reader.integer<int64_t>("shutdown_timeout_ms", 0, 3600000, s.shutdown_timeout_ms);
  reader.integer<int64_t>("claim_idle_ms", 1000, kDayMs, s.claim_idle_ms);
  reader.integer<int64_t>("checkpoint_ttl_hours", 1, 87600, s.checkpoint_ttl_hours);
  if (s.retry_max_ms < s.retry_initial_ms) {
    reader.add("retry_max_ms",
               fmt::format("must be at least retry_initial_ms ({})", s.retry_initial_ms));
  }

  // retry_schedule wins; else the older keys, when any is set (a config written for them);
  // else the default schedule.
  std::vector<std::string> older;
  for (const char* key : {"retry_initial_ms", "retry_max_ms", "retry_max_attempts"}) {
    try {
      if (config.get(key)) older.emplace_back(key);
    } catch (const ConfigError&) {
      older.emplace_back(key);  // set, but not readable: reported above
    }
  }
  if (auto schedule = reader.get("retry_schedule")) {
    std::string error;
    if (auto delays = parseDelayList(*schedule, error)) {
      s.retry_schedule_ms = std::move(*delays);
    } else {
      reader.add("retry_schedule", error);
    }
    for (const auto& key : older) {
      s.notices.push_back(fmt::format("{}: {} is ignored: retry_schedule is set, and wins",
                                      config.where(key), key));
    }
  } else if (older.empty()) {
    std::string error;
    s.retry_schedule_ms = *parseDelayList(kDefaultRetrySchedule, error);
  }

  // Checkpoints must outlive the delivery's attempts: they are what a later attempt reads.
  int64_t span_ms = 0;
  if (s.exponentialRetries()) {
    int64_t delay = s.retry_initial_ms;
    for (int i = 1; i < s.retry_max_attempts && span_ms < 7 * 30 * kDayMs; ++i) {
      span_ms += std::min(delay, s.retry_max_ms);
      delay = std::min(delay * 2, s.retry_max_ms);
    }
  } else {
    for (int64_t delay : s.retry_schedule_ms)
      span_ms += delay;
  }
  // The schedule's jitter adds up to 10 %.
  if (s.checkpoint_ttl_hours * 3600000 < span_ms + span_ms / 10) {
    reader.add("checkpoint_ttl_hours",
               fmt::format("must be more than the retry schedule's whole span ({} h), or "
                           "checkpoints expire before the last attempt reads them",
                           (span_ms + span_ms / 10) / 3600000 + 1));
  }

  if (auto name = reader.get("consumer_name")) {
    if (!isValidConsumerName(*name)) {
      reader.add(
          "consumer_name",
          fmt::format("`{}` is not a consumer name: 1 to 200 of A-Z a-z 0-9 . _ : - @", *name));
    } else {
      s.consumer_name = *name;
    }
  }
  if (auto dir = reader.get("plugin_dir")) {
    if (dir->empty() || dir->front() != '/') {
      reader.add("plugin_dir", fmt::format("must be an absolute path, not `{}`", *dir));
    } else {
      s.plugin_dir = *dir;
    }
  }
  reader.throwIfAny();
  return s;
}

std::string defaultPluginDir(const std::string& binary_path) {
  const size_t slash = binary_path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : binary_path.substr(0, slash);
  const size_t parent = folder.rfind('/');
  const std::string prefix = parent == std::string::npos ? "." : folder.substr(0, parent);
  return prefix + "/lib/conduit/plugins";
}

}  // namespace conduit::config
