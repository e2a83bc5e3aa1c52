#include "app/cli.hpp"

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "app/serve_command.hpp"
#include "app/version.hpp"

namespace conduit::app {
namespace {

constexpr std::string_view kUsage = R"(usage: conduit <command> [options]

commands:
  serve [--config FILE] [-p PORT]   run the webhook HTTP API
  version                           print the version
  help                              print this help

Without --config, the config is ./config/app.env when it exists, else {}.
Every key can be set by the environment variable CONDUIT_<KEY> as well.
)";

int usageError(const std::string& message) {
  fmt::print(stderr, "conduit: {}\nRun `conduit help` for usage.\n", message);
  return kExitUsageOrConfig;
}

int parseServe(int argc, char** argv, ServeOptions& options) {
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--config" || arg == "-c") {
      const char* path = value();
      if (path == nullptr) return usageError(fmt::format("{} needs a file", arg));
      options.config_path = path;
    } else if (arg.substr(0, 9) == "--config=") {
      options.config_path = std::string(arg.substr(9));
    } else if (arg == "-p" || arg == "--port") {
      const char* text = value();
      if (text == nullptr) return usageError(fmt::format("{} needs a port number", arg));
      std::string_view port_text = text;
      unsigned port = 0;
      auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
        return usageError(fmt::format("{}: `{}` is not a port number from 0 to 65535", arg, text));
      }
      options.port = static_cast<uint16_t>(port);
    } else {
      return usageError(fmt::format("serve: unknown option `{}`", arg));
    }
  }
  return kExitOk;
}

}  // namespace

int runCli(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, kUsage, defaultConfigPath());
    return kExitUsageOrConfig;
  }
  std::string_view command = argv[1];
  if (command == "serve") {
    ServeOptions options;
    if (int status = parseServe(argc, argv, options); status != kExitOk) return status;
    return serve(options);
  }
  if (command == "version" || command == "--version") {
    if (argc > 2) return usageError("version takes no arguments");
    fmt::print("{}\n", version());
    return kExitOk;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    fmt::print(kUsage, defaultConfigPath());
    return kExitOk;
  }
  return usageError(fmt::format("unknown command `{}`", command));
}

}  // namespace conduit::app
