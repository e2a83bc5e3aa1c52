#include "app/serve_command.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/cli.hpp"
#include "app/default_paths.hpp"
#include "app/logging.hpp"
#include "app/server_app.hpp"
#include "app/service_notifier.hpp"
#include "app/stop_signals.hpp"
#include "app/version.hpp"
#include "config/app_config.hpp"
#include "config/config_error.hpp"
#include "config/server_settings.hpp"
#include "config/worker_settings.hpp"

namespace conduit::app {
namespace {

// How long a stopping server lets the requests in flight finish.
constexpr std::chrono::seconds kDrainGrace{10};

}  // namespace

int serve(const ServeOptions& options) {
  const std::string config_path = options.config_path.value_or(defaultConfigPath());
  config::ServerSettings settings;
  std::vector<std::string> unknown_keys;
  try {
    auto config = config::AppConfig::fromFile(config_path, config::processEnvironment());
    settings = config::ServerSettings::load(config);
    // The file is shared with the worker half: its keys are known too. Keys that only plugins
    // read are not known here; `conduit work` and `conduit run` check those.
    auto known = config::ServerSettings::knownKeys();
    known.insert(config::WorkerSettings::knownKeys().begin(),
                 config::WorkerSettings::knownKeys().end());
    unknown_keys = config.unknownKeys(known);
  } catch (const config::ConfigError& e) {
    fmt::print(stderr, "conduit: {}\n", e.what());
    return kExitUsageOrConfig;
  }
  if (options.port) settings.port = *options.port;

  const sigset_t stop_signals = blockStopSignals();
  setUpLogging(settings.log_level);
  spdlog::info("conduit {} starting with {}", version(), config_path);
  for (const auto& warning : unknown_keys)
    spdlog::warn("{}", warning);
  if (!settings.secret_key) {
    spdlog::warn("secret_key is not set: hook secrets are stored in Redis in plain text");
  }
  if (!settings.admin_token) {
    spdlog::info("admin_token is not set: the hook admin routes answer loopback clients only");
  }

  ServerApp app(settings);
  try {
    app.start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
  spdlog::info("listening on http://{}:{}", settings.bind, app.port());
  ServiceNotifier systemd;
  systemd.ready(fmt::format("listening on {}:{}", settings.bind, app.port()));

  int signal_number = 0;
  while ((signal_number = waitForSignal(stop_signals)) == SIGHUP) {
    spdlog::info("SIGHUP: conduit serve has nothing to reload (app.env is read at start only)");
  }
  spdlog::info("{} received: finishing the requests in flight (at most {} s)",
               strsignal(signal_number), kDrainGrace.count());
  systemd.stopping("finishing the requests in flight");
  if (int unfinished = app.stop(kDrainGrace); unfinished > 0) {
    // The grace is a promise to whoever stops us (systemd, Kubernetes): leave now, without
    // waiting for handlers stuck on a slow Redis. Their clients see the connection drop and
    // the code host retries or shows the delivery as failed.
    spdlog::warn("stopped with {} requests still running", unfinished);
    std::fflush(stderr);
    std::_Exit(kExitOk);
  }
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace conduit::app
