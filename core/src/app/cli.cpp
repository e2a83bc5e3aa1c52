#include "app/cli.hpp"

#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "app/check_command.hpp"
#include "app/default_paths.hpp"
#include "app/deliveries_command.hpp"
#include "app/hooks_command.hpp"
#include "app/plugins_command.hpp"
#include "app/serve_command.hpp"
#include "app/version.hpp"
#include "app/work_command.hpp"

namespace conduit::app {
namespace {

constexpr std::string_view kUsage = R"(usage: conduit <command> [options]

commands:
  run [--config FILE] [--hcl-dir DIR] [--worker-cfg FILE]
                                       run the webhook HTTP API and a worker in one process
  serve [--config FILE] [-p PORT]      run the webhook HTTP API
  work [--config FILE] [--hcl-dir DIR] [--worker-cfg FILE] [-p PORT]
                                       run a worker process: deliveries to the plugins
  check [--hcl-dir DIR] [--worker-cfg FILE]
                                       validate the state machines and workers.yaml
  plugins [--plugin-dir DIR] [--config FILE]
                                       list the plugins of the plugin folder
  next [--hcl-dir DIR] --project P --status STATUS [--event EVENT]
                                       print the status an event leads to (default event: next)
  version                              print the version
  help                                 print this help

  deliveries list [--status S] [--repo R] [--provider P] [--kind K] [--issue KEY] [--since T]
                  [--until T] [--limit N] [--json]
                                       the delivery log, newest first
  deliveries show ID [--payload] [--json]
                                       one delivery: its workers, attempts and actions
  deliveries replay ID... [--force]    put deliveries back on the queue (done ones: --force)
  dead-letters list [--repo R] [--provider P] [--worker W] [--since T] [--until T] [--limit N]
                    [--json]           the dead letters, newest first
  dead-letters replay (ID... | --all | --since T [--until T]) [--repo R] [--provider P]
                      [--worker W]     put dead letters' deliveries back on the queue
  dead-letters purge (ID... | --all) [--yes]
                                       discard dead letters for good
  hooks list [--provider P] [--json]   the registered hooks (never their secrets)
  hooks register --provider P --repo-id R --repo-path ORG/REPO [--json]
                                       register a hook; prints its new secret, once
  hooks rotate --provider P --repo-id R [--repo-path ORG/REPO] [--json]
                                       give a hook a new secret; prints it, once
  hooks delete --provider P --repo-id R
                                       delete a hook
  hooks import --provider P --repo-id R --repo-path ORG/REPO --secret-file FILE|-
                                       register a hook with a secret it already has
  Each takes --config FILE and works on Redis directly: no server needs to run.
  ID: PROVIDER/REPO_ID/DELIVERY, or the delivery id alone. T: RFC 3339, Unix milliseconds,
  or a time ago: 30m, 2h, 7d. Exit status 1: nothing matched an id, or Redis did not answer.

Without --config, --hcl-dir and --worker-cfg: ./config/app.env, ./config/statemachines and
./config/workers.yaml when they exist, else those of {}.
Every key can be set by the environment variable CONDUIT_<KEY> as well.
)";

int usageError(const std::string& message) {
  fmt::print(stderr, "conduit: {}\nRun `conduit help` for usage.\n", message);
  return kExitUsageOrConfig;
}

// A command line past its command words: options with a value (`--name value` or
// `--name=value`), flags without one (`--json`), each at most once, and where `positionals`
// allows them, other arguments (after `--`, everything is one: a delivery id may start with -).
struct Arguments {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
  std::vector<std::string> positionals;
};

// Returns nullopt after printing a usage error.
std::optional<Arguments> parseArguments(int argc, char** argv, int first, std::string_view command,
                                        const std::map<std::string_view, std::string_view>& valued,
                                        const std::set<std::string_view>& flags, bool positionals) {
  Arguments args;
  bool options_ended = false;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (options_ended || arg.empty() || arg[0] != '-' || arg == "-") {
      if (!positionals) {
        usageError(fmt::format("{}: unexpected argument `{}`", command, arg));
        return std::nullopt;
      }
      args.positionals.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    std::string_view value;
    bool inline_value = false;
    if (size_t eq = arg.find('='); arg.substr(0, 2) == "--" && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    if (flags.count(arg) != 0) {
      if (inline_value) {
        usageError(fmt::format("{}: {} takes no value", command, arg));
        return std::nullopt;
      }
      if (!args.flags.emplace(arg.substr(2)).second) {
        usageError(fmt::format("{}: {} is given twice", command, arg));
        return std::nullopt;
      }
      continue;
    }
    auto it = valued.find(arg);
    if (it == valued.end()) {
      usageError(fmt::format("{}: unknown option `{}`", command, arg));
      return std::nullopt;
    }
    if (!inline_value) {
      if (i + 1 >= argc) {
        usageError(fmt::format("{}: {} needs a value", command, arg));
        return std::nullopt;
      }
      value = argv[++i];
    }
    if (!args.values.emplace(std::string(it->second), std::string(value)).second) {
      usageError(fmt::format("{}: {} is given twice", command, arg));
      return std::nullopt;
    }
  }
  return args;
}

// The options of one command that takes options only: `--name value` or `--name=value`, each
// at most once. `known` maps each spelling (`-p`, `--port`) to the option's name. Returns
// nullopt after printing a usage error.
std::optional<std::map<std::string, std::string>> parseOptions(
    int argc, char** argv, std::string_view command,
    const std::map<std::string_view, std::string_view>& known) {
  auto args = parseArguments(argc, argv, 2, command, known, {}, /*positionals=*/false);
  if (!args) return std::nullopt;
  return std::move(args->values);
}

// The value of an option, if given.
std::optional<std::string> option(const std::map<std::string, std::string>& options,
                                  const char* name) {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

// -p's value; false after printing a usage error.
bool parsePort(const std::map<std::string, std::string>& options, std::optional<uint16_t>& port) {
  auto text = option(options, "port");
  if (!text) return true;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value > 65535) {
    usageError(fmt::format("-p: `{}` is not a port number from 0 to 65535", *text));
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

int runServe(int argc, char** argv) {
  auto options =
      parseOptions(argc, argv, "serve",
                   {{"--config", "config"}, {"-c", "config"}, {"--port", "port"}, {"-p", "port"}});
  if (!options) return kExitUsageOrConfig;
  ServeOptions serve_options;
  serve_options.config_path = option(*options, "config");
  if (!parsePort(*options, serve_options.port)) return kExitUsageOrConfig;
  return serve(serve_options);
}

// `conduit work` (with_port) and `conduit run` (without: the API's port serves both).
int runWorker(int argc, char** argv, bool with_port) {
  std::map<std::string_view, std::string_view> known = {{"--config", "config"},
                                                        {"-c", "config"},
                                                        {"--hcl-dir", "hcl-dir"},
                                                        {"--worker-cfg", "worker-cfg"}};
  if (with_port) {
    known.emplace("--port", "port");
    known.emplace("-p", "port");
  }
  auto options = parseOptions(argc, argv, with_port ? "work" : "run", known);
  if (!options) return kExitUsageOrConfig;
  WorkOptions work_options;
  work_options.config_path = option(*options, "config");
  work_options.hcl_dir = option(*options, "hcl-dir");
  work_options.workers_file = option(*options, "worker-cfg");
  if (!parsePort(*options, work_options.port)) return kExitUsageOrConfig;
  return with_port ? work(work_options) : runAll(work_options);
}

int runPlugins(int argc, char** argv) {
  auto options =
      parseOptions(argc, argv, "plugins", {{"--plugin-dir", "plugin-dir"}, {"--config", "config"}});
  if (!options) return kExitUsageOrConfig;
  return listPlugins({option(*options, "plugin-dir"), option(*options, "config")});
}

int runCheck(int argc, char** argv) {
  auto options =
      parseOptions(argc, argv, "check", {{"--hcl-dir", "hcl-dir"}, {"--worker-cfg", "worker-cfg"}});
  if (!options) return kExitUsageOrConfig;
  CheckOptions check_options;
  if (auto it = options->find("hcl-dir"); it != options->end()) check_options.hcl_dir = it->second;
  if (auto it = options->find("worker-cfg"); it != options->end()) {
    check_options.workers_file = it->second;
  }
  return check(check_options);
}

int runNext(int argc, char** argv) {
  auto options = parseOptions(argc, argv, "next",
                              {{"--hcl-dir", "hcl-dir"},
                               {"--project", "project"},
                               {"--status", "status"},
                               {"--event", "event"}});
  if (!options) return kExitUsageOrConfig;
  NextOptions next_options;
  for (const char* required : {"project", "status"}) {
    if (options->count(required) == 0)
      return usageError(fmt::format("next: --{} is required", required));
  }
  if (auto it = options->find("hcl-dir"); it != options->end()) next_options.hcl_dir = it->second;
  next_options.project = options->at("project");
  next_options.status = options->at("status");
  if (auto it = options->find("event"); it != options->end()) next_options.event = it->second;
  return next(next_options);
}

// `conduit hooks <action> ...`.
int runHooks(int argc, char** argv) {
  if (argc < 3) return usageError("hooks: which one? list, register, rotate, delete or import");
  const std::string action = argv[2];
  std::map<std::string_view, std::string_view> valued = {
      {"--config", "config"}, {"-c", "config"}, {"--provider", "provider"}};
  if (action != "list") {
    valued.emplace("--repo-id", "repo-id");
    valued.emplace("--repo-path", "repo-path");
  }
  if (action == "import") valued.emplace("--secret-file", "secret-file");
  auto args = parseArguments(argc, argv, 3, "hooks " + action, valued, {"--json"}, false);
  if (!args) return kExitUsageOrConfig;
  HooksOptions options;
  options.action = action;
  options.config_path = option(args->values, "config");
  options.provider = option(args->values, "provider").value_or("");
  options.repo_id = option(args->values, "repo-id").value_or("");
  options.repo_path = option(args->values, "repo-path").value_or("");
  options.secret_file = option(args->values, "secret-file");
  options.json = args->flags.count("json") != 0;
  return hooks(options);
}

// `conduit deliveries <action> ...` and `conduit dead-letters <action> ...`: which options each
// action takes is decided here; what their values mean, by the command.
int runDeliveries(int argc, char** argv, bool dead_letters) {
  const std::string command = dead_letters ? "dead-letters" : "deliveries";
  const char* actions = dead_letters ? "list, replay or purge" : "list, show or replay";
  if (argc < 3) return usageError(fmt::format("{}: which one? {}", command, actions));
  const std::string action = argv[2];
  std::map<std::string_view, std::string_view> valued = {{"--config", "config"}, {"-c", "config"}};
  std::set<std::string_view> flags;
  bool ids = false;
  const std::map<std::string_view, std::string_view> filters = {
      {"--repo", "repo"}, {"--provider", "provider"}, {"--since", "since"}, {"--until", "until"}};
  if (action == "list") {
    valued.insert(filters.begin(), filters.end());
    valued.emplace("--limit", "limit");
    if (dead_letters) {
      valued.emplace("--worker", "worker");
    } else {
      valued.emplace("--status", "status");
      valued.emplace("--kind", "kind");
      valued.emplace("--issue", "issue");
    }
    flags = {"--json"};
  } else if (action == "show" && !dead_letters) {
    flags = {"--payload", "--json"};
    ids = true;
  } else if (action == "replay" && !dead_letters) {
    flags = {"--force"};
    ids = true;
  } else if (action == "replay") {
    valued.insert(filters.begin(), filters.end());
    valued.emplace("--worker", "worker");
    flags = {"--all"};
    ids = true;
  } else if (action == "purge" && dead_letters) {
    flags = {"--all", "--yes"};
    ids = true;
  } else {
    return usageError(fmt::format("{}: unknown subcommand `{}`: {}", command, action, actions));
  }
  auto args = parseArguments(argc, argv, 3, command + " " + action, valued, flags, ids);
  if (!args) return kExitUsageOrConfig;

  DeliveriesOptions options;
  options.action = action;
  options.config_path = option(args->values, "config");
  options.ids = args->positionals;
  options.status = option(args->values, "status");
  options.repo_id = option(args->values, "repo");
  options.provider = option(args->values, "provider");
  options.kind = option(args->values, "kind");
  options.issue = option(args->values, "issue");
  options.worker = option(args->values, "worker");
  options.since = option(args->values, "since");
  options.until = option(args->values, "until");
  options.limit = option(args->values, "limit");
  options.json = args->flags.count("json") != 0;
  options.payload = args->flags.count("payload") != 0;
  options.force = args->flags.count("force") != 0;
  options.all = args->flags.count("all") != 0;
  options.yes = args->flags.count("yes") != 0;
  return dead_letters ? deadLetters(options) : deliveries(options);
}

}  // namespace

int runCli(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, kUsage, installedConfigDir());
    return kExitUsageOrConfig;
  }
  std::string_view command = argv[1];
  if (command == "run") return runWorker(argc, argv, /*with_port=*/false);
  if (command == "serve") return runServe(argc, argv);
  if (command == "work") return runWorker(argc, argv, /*with_port=*/true);
  if (command == "plugins") return runPlugins(argc, argv);
  if (command == "check") return runCheck(argc, argv);
  if (command == "next") return runNext(argc, argv);
  if (command == "hooks") return runHooks(argc, argv);
  if (command == "deliveries") return runDeliveries(argc, argv, /*dead_letters=*/false);
  if (command == "dead-letters") return runDeliveries(argc, argv, /*dead_letters=*/true);
  if (command == "version" || command == "--version") {
    if (argc > 2) return usageError("version takes no arguments");
    fmt::print("{}\n", version());
    return kExitOk;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    fmt::print(kUsage, installedConfigDir());
    return kExitOk;
  }
  return usageError(fmt::format("unknown command `{}`", command));
}

}  // namespace conduit::app
