#include "app/serve_command.hpp"

#include <spdlog/spdlog.h>

#include "app/cli.hpp"
#include "app/server_app.hpp"
#include "app/service_lifecycle.hpp"

namespace conduit::app {

int serve(const ServeOptions& options) {
  auto config = readServiceConfig(options.config_path);
  if (!config) return kExitUsageOrConfig;
  if (options.port) config->server.port = *options.port;

  ServiceLifecycle service(ServiceKind::kServer, *config);
  service.checkKeys(/*plugin_keys=*/nullptr);
  service.noteInsecureSettings();
  service.checkRedisDurability();
  ServerApp app(config->server);
  try {
    app.start();
  } catch (const std::exception& e) {
    return startFailure(e);
  }
  spdlog::info("listening on http://{}:{}", config->server.bind, app.port());
  service.ready(fmt::format("listening on {}:{}", config->server.bind, app.port()));

  service.waitForStop(/*on_reload=*/nullptr);
  // Handlers stuck on a slow Redis are not waited for: their clients see the connection drop,
  // and the code host retries or shows the delivery as failed.
  if (int unfinished = app.stop(service.grace()); unfinished > 0) {
    ServiceLifecycle::exitNow(fmt::format("stopped with {} requests still running", unfinished));
  }
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace conduit::app
