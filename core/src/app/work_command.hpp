#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace conduit::app {

struct WorkOptions {
  std::optional<std::string> config_path;   // --config; else defaultConfigPath()
  std::optional<std::string> hcl_dir;       // --hcl-dir; else defaultHclDir()
  std::optional<std::string> workers_file;  // --worker-cfg; else defaultWorkersFile()
  std::optional<uint16_t> port;             // -p (`conduit work` only); else worker_port
};

// `conduit work`: loads the state machines, workers.yaml and each worker's plugin, answers
// /conduit-reactor/ping on the worker port, and processes deliveries until SIGTERM or SIGINT.
int work(const WorkOptions& options);

// `conduit run`: the server and a worker process in one, on the API port only, which also
// answers /conduit-reactor/ping. Stops within shutdown_timeout_ms.
int runAll(const WorkOptions& options);

}  // namespace conduit::app
