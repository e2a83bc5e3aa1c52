#include "app/service_lifecycle.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "app/allocator_tuning.hpp"
#include "app/cli.hpp"
#include "app/default_paths.hpp"
#include "app/logging.hpp"
#include "app/stop_signals.hpp"
#include "app/version.hpp"
#include "config/config_error.hpp"
#include "spool/spool_error.hpp"
#include "store/redis_connection.hpp"

namespace conduit::app {
namespace {

// Edits (insert, delete, replace) that turn `a` into `b`.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const char* describe(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::kServer:
      return "";
    case ServiceKind::kWorker:
      return " worker";
    case ServiceKind::kServerAndWorker:
      return " (server and worker)";
  }
  return "";
}

const char* inFlight(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::kServer:
      return "the requests in flight";
    case ServiceKind::kWorker:
      return "the deliveries being processed";
    case ServiceKind::kServerAndWorker:
      return "the requests and deliveries in flight";
  }
  return "";
}

// One CONFIG GET answer's value, or nullopt when Redis does not know the parameter.
std::optional<std::string> configValue(store::RedisConnection& redis, std::string_view name) {
  const auto reply = redis.command({"CONFIG", "GET", name});
  // RESP2: [name, value]; RESP3 maps come the same way through hiredis's RESP2 protocol.
  if (reply.elements.size() < 2) return std::nullopt;
  return reply.elements[1].text;
}

}  // namespace

std::optional<ServiceConfig> readServiceConfig(const std::optional<std::string>& path) {
  ServiceConfig config;
  config.path = path.value_or(defaultConfigPath());
  try {
    config.file = config::AppConfig::fromFile(config.path, config::processEnvironment());
    config.server = config::ServerSettings::load(*config.file);
    config.worker =
        config::WorkerSettings::load(*config.file, config::defaultPluginDir(runningBinaryPath()));
  } catch (const config::ConfigError& e) {
    fmt::print(stderr, "conduit: {}\n", e.what());
    return std::nullopt;
  }
  return config;
}

int startFailure(const std::exception& error) {
  spdlog::error("{}", error.what());
  if (dynamic_cast<const spool::SpoolUnusable*>(&error) != nullptr) return kExitUsageOrConfig;
  return kExitFailure;
}

std::set<std::string, std::less<>> coreKeys() {
  auto known = config::ServerSettings::knownKeys();
  known.insert(config::WorkerSettings::knownKeys().begin(),
               config::WorkerSettings::knownKeys().end());
  return known;
}

std::vector<std::pair<std::string, std::string>> nearMisses(
    const std::vector<std::string>& keys, const std::set<std::string, std::less<>>& known) {
  std::vector<std::pair<std::string, std::string>> misses;
  for (const auto& key : keys) {
    // Within two edits, short keys look alike by chance (`bind`, `kind`): they get one.
    size_t best = key.size() <= 5 ? 1 : 2;
    const std::string* closest = nullptr;
    for (const auto& candidate : known) {
      if (const size_t distance = editDistance(key, candidate); distance <= best) {
        if (closest == nullptr || distance < best) closest = &candidate;
        best = distance;
      }
    }
    if (closest != nullptr) misses.emplace_back(key, *closest);
  }
  return misses;
}

ServiceLifecycle::ServiceLifecycle(ServiceKind kind, const ServiceConfig& config)
    : kind_(kind), config_(config), signals_(blockStopSignals()) {
  tuneAllocator();
  setUpLogging(config.server.log_level, config.server.log_format);
  spdlog::info("conduit {}{} starting with {}", version(), describe(kind), config.path);
}

ServiceLifecycle::~ServiceLifecycle() = default;

void ServiceLifecycle::checkKeys(const std::set<std::string, std::less<>>* plugin_keys) const {
  auto known = coreKeys();
  if (plugin_keys != nullptr) known.insert(plugin_keys->begin(), plugin_keys->end());
  const auto& file = *config_.file;
  const auto unknown = file.keysNotIn(known);
  std::vector<std::string> names;
  for (const auto& [key, line] : unknown)
    names.push_back(key);
  const auto misses = nearMisses(names, coreKeys());

  std::vector<std::string> not_read;
  for (const auto& [key, line] : unknown) {
    auto miss = std::find_if(misses.begin(), misses.end(),
                             [&key = key](const auto& m) { return m.first == key; });
    if (miss != misses.end()) {
      spdlog::warn("{}:{}: unknown key `{}` is ignored: did you mean `{}`?", file.fileName(), line,
                   key, miss->second);
    } else if (plugin_keys != nullptr) {
      spdlog::warn("{}:{}: unknown key `{}` is ignored", file.fileName(), line, key);
    } else {
      not_read.push_back(fmt::format("`{}` (line {})", key, line));
    }
  }
  if (!not_read.empty()) {
    // `conduit serve` loads no plugin, so it cannot tell a plugin's key (atlassian_email) from a
    // typo; `conduit work` and `conduit run` load them and warn about keys nobody reads.
    spdlog::info(
        "{}: conduit serve does not read {}: plugins' keys are read by `conduit work` or "
        "`conduit run`, which warn about any key that no plugin reads either",
        file.fileName(), fmt::join(not_read, ", "));
  }
}

void ServiceLifecycle::noteInsecureSettings() const {
  if (kind_ == ServiceKind::kWorker) return;  // it stores no secret and serves no admin route
  if (!config_.server.secret_key) {
    spdlog::warn("secret_key is not set: hook secrets are stored in Redis in plain text");
  }
  if (!config_.server.admin_token) {
    spdlog::info("admin_token is not set: the hook admin routes answer loopback clients only");
  }
}

void ServiceLifecycle::checkRedisDurability() const {
  const auto& endpoint = config_.server.redis;
  try {
    store::RedisConnection redis(endpoint,
                                 std::chrono::milliseconds(config_.server.redis_timeout_ms));
    if (auto policy = configValue(redis, "maxmemory-policy"); policy && *policy != "noeviction") {
      spdlog::warn(
          "Redis at {} has maxmemory-policy {}: when it is full it may evict the queue's "
          "stream, its retries or its hooks, and accepted deliveries are then lost without a "
          "trace. Set `maxmemory-policy noeviction` (redis.conf, or CONFIG SET): a full Redis "
          "then refuses new deliveries with 503, and the code host sends them again later",
          endpoint.describe(), *policy);
    }
    if (auto appendonly = configValue(redis, "appendonly"); appendonly && *appendonly == "no") {
      spdlog::warn(
          "Redis at {} has appendonly no: a restart or crash of Redis loses every delivery "
          "accepted since its last snapshot (minutes of them). Set `appendonly yes` "
          "(redis.conf, or CONFIG SET appendonly yes then CONFIG REWRITE)",
          endpoint.describe());
    }
  } catch (const store::RedisError& e) {
    // Managed Redis (ElastiCache, Memorystore, ...) refuses or renames CONFIG: its provider
    // keeps these settings, and there is nothing to warn about.
    spdlog::debug(
        "Redis at {} does not answer CONFIG GET ({}): its durability settings are not "
        "checked",
        endpoint.describe(), e.what());
  } catch (const std::exception& e) {
    // Down, or not answering in time: the parts that need Redis say so themselves.
    spdlog::debug("Redis at {}: durability settings not checked: {}", endpoint.describe(),
                  e.what());
  }
}

void ServiceLifecycle::ready(std::string_view status, std::function<bool()> healthy) {
  if (healthy) notifier_.watchHealth(std::move(healthy));
  notifier_.ready(status);
}

int ServiceLifecycle::waitForStop(const std::function<void()>& on_reload) {
  int signal_number = 0;
  while ((signal_number = waitForSignal(signals_)) == SIGHUP) {
    if (on_reload) {
      on_reload();
    } else {
      spdlog::info("SIGHUP: conduit serve has nothing to reload (app.env is read at start only)");
    }
  }
  const std::string what = inFlight(kind_);
  spdlog::info("{} received: finishing {} (at most {} ms)", strsignal(signal_number), what,
               grace().count());
  notifier_.stopping("finishing " + what);
  return signal_number;
}

std::chrono::milliseconds ServiceLifecycle::grace() const {
  return std::chrono::milliseconds(config_.worker.shutdown_timeout_ms);
}

void ServiceLifecycle::exitNow(std::string_view warning) {
  spdlog::warn("{}", warning);
  std::fflush(stderr);
  std::_Exit(kExitOk);
}

}  // namespace conduit::app
