#include "app/hooks_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "app/cli.hpp"
#include "app/command_context.hpp"
#include "app/table_output.hpp"
#include "crypto/digest.hpp"
#include "crypto/hex.hpp"
#include "crypto/secret_box.hpp"
#include "http/api_response.hpp"
#include "providers/registry.hpp"
#include "store/hook_registry.hpp"
#include "store/redis_pool.hpp"

namespace conduit::app {
namespace {

// As the admin routes: a new secret is 32 random bytes in hex (imported ones: store/hook.hpp).
constexpr size_t kSecretBytes = 32;

int usage(const std::string& message) {
  fmt::print(stderr, "conduit hooks: {}\nRun `conduit help` for usage.\n", message);
  return kExitUsageOrConfig;
}

// The admin routes' checks, with the command's option names: the message of the first
// problem, or empty.
std::string checkProvider(const HooksOptions& o) {
  if (o.provider.empty()) return "--provider is required";
  if (providers::findProvider(o.provider) == nullptr) {
    return fmt::format("unknown provider `{}`; known: {}", o.provider,
                       fmt::join(providers::providerNames(), ", "));
  }
  return {};
}

std::string checkRepoId(const HooksOptions& o) {
  if (o.repo_id.empty()) return "--repo-id is required";
  if (!store::isValidRepoId(o.repo_id)) {
    return "--repo-id must be 1 to 100 of the characters A-Z a-z 0-9 . _ -";
  }
  return {};
}

std::string checkRepoPath(const HooksOptions& o, bool required) {
  if (o.repo_path.empty()) return required ? "--repo-path is required, as in org/repo" : "";
  const providers::Provider* provider = providers::findProvider(o.provider);
  if (provider == nullptr) return {};  // checkProvider() says so
  auto problem = providers::repoPathProblem(*provider, o.repo_path);
  return problem ? "--repo-path " + *problem : "";
}

// The options each action takes, and their checks; the first problem, or empty.
std::string checkOptions(const HooksOptions& o) {
  const bool list = o.action == "list";
  const bool needs_path = o.action == "register" || o.action == "import";
  if (list) {
    if (!o.repo_id.empty() || !o.repo_path.empty()) return "list takes only --provider";
    return o.provider.empty() ? "" : checkProvider(o);
  }
  if (o.secret_file && o.action != "import") return "only import takes --secret-file";
  if (o.action == "import" && !o.secret_file) {
    return "import needs --secret-file FILE (or `-` for standard input): a secret on the "
           "command line would be seen by every user of the machine";
  }
  if (o.action == "delete" && !o.repo_path.empty()) return "delete takes no --repo-path";
  for (const auto& problem : {checkProvider(o), checkRepoId(o), checkRepoPath(o, needs_path)}) {
    if (!problem.empty()) return problem;
  }
  return {};
}

std::string payloadUri(const store::Hook& hook) {
  return fmt::format("/conduit/webhooks/{}/{}/payload", hook.provider, hook.repo_id);
}

void printJson(const std::function<void(http::JsonWriter&)>& write) {
  rapidjson::StringBuffer buffer;
  http::JsonWriter w(buffer);
  write(w);
  fmt::print("{}\n", buffer.GetString());
}

void writeHook(http::JsonWriter& w, const store::Hook& hook) {
  w.StartObject();
  w.Key("provider");
  http::writeString(w, hook.provider);
  w.Key("repo_id");
  http::writeString(w, hook.repo_id);
  w.Key("repo_path");
  http::writeString(w, hook.repo_path);
  w.EndObject();
}

// The one place a secret is shown: right after register or rotate made it.
void printSecret(const HooksOptions& o, const store::Hook& hook, const std::string& secret,
                 std::string_view done) {
  if (o.json) {
    printJson([&](http::JsonWriter& w) {
      w.StartObject();
      w.Key("secret");
      http::writeString(w, secret);
      w.Key("uri");
      http::writeString(w, payloadUri(hook));
      w.EndObject();
    });
    return;
  }
  const bool colour = colourWanted();
  fmt::print("{} {}/{} ({})\n", done, hook.provider, hook.repo_id, hook.repo_path);
  fmt::print("  payload URL: {}\n", payloadUri(hook));
  fmt::print("  secret:      {}\n", paint(secret, Colour::kBold, colour));
  fmt::print("The secret is shown this once: put it in the code host's webhook settings now.\n");
}

int list(const HooksOptions& o, store::HookRegistry& registry) {
  std::vector<store::Hook> hooks;
  if (!o.provider.empty()) {
    hooks = registry.list(o.provider);
  } else {
    for (auto provider : providers::providerNames()) {
      auto some = registry.list(provider);
      hooks.insert(hooks.end(), some.begin(), some.end());
    }
  }
  if (o.json) {
    printJson([&](http::JsonWriter& w) {
      w.StartArray();
      for (const auto& hook : hooks)
        writeHook(w, hook);
      w.EndArray();
    });
    return kExitOk;
  }
  if (hooks.empty()) {
    fmt::print("no hooks{}\n", o.provider.empty() ? "" : " of " + o.provider);
    return kExitOk;
  }
  Table table({"PROVIDER", "REPO ID", "REPO PATH", "PAYLOAD URL"});
  for (const auto& hook : hooks)
    table.addRow({{hook.provider}, {hook.repo_id}, {hook.repo_path}, {payloadUri(hook)}});
  fmt::print("{}", table.render(colourWanted()));
  return kExitOk;
}

int registerHook(const HooksOptions& o, store::HookRegistry& registry) {
  const store::Hook hook{o.provider, o.repo_id, o.repo_path};
  const std::string secret = crypto::toHex(crypto::randomBytes(kSecretBytes));
  if (registry.create(hook, secret) == store::HookRegistry::Outcome::kAlreadyExists) {
    fmt::print(stderr,
               "conduit hooks: {}/{} is registered already; `conduit hooks rotate` makes a new "
               "secret\n",
               o.provider, o.repo_id);
    return kExitFailure;
  }
  printSecret(o, hook, secret, "registered");
  return kExitOk;
}

int rotate(const HooksOptions& o, store::HookRegistry& registry) {
  store::Hook hook{o.provider, o.repo_id, o.repo_path};
  // The API's update needs the repo path; here it may be left out to keep the one registered.
  if (hook.repo_path.empty()) {
    auto found = registry.find(o.provider, o.repo_id);
    if (!found) {
      fmt::print(stderr, "conduit hooks: no hook {}/{}\n", o.provider, o.repo_id);
      return kExitFailure;
    }
    hook.repo_path = found->repo_path;
  }
  const std::string secret = crypto::toHex(crypto::randomBytes(kSecretBytes));
  if (registry.replaceSecret(hook, secret) == store::HookRegistry::Outcome::kNotFound) {
    fmt::print(stderr, "conduit hooks: no hook {}/{}\n", o.provider, o.repo_id);
    return kExitFailure;
  }
  printSecret(o, hook, secret, "new secret for");
  return kExitOk;
}

int removeHook(const HooksOptions& o, store::HookRegistry& registry) {
  if (!registry.remove(o.provider, o.repo_id)) {
    fmt::print(stderr, "conduit hooks: no hook {}/{}\n", o.provider, o.repo_id);
    return kExitFailure;
  }
  if (o.json) {
    printJson([&](http::JsonWriter& w) {
      w.StartObject();
      w.Key("deleted");
      w.Bool(true);
      w.EndObject();
    });
  } else {
    fmt::print("deleted {}/{}\n", o.provider, o.repo_id);
  }
  return kExitOk;
}

// The secret to import, from the file or standard input, one trailing newline dropped (as
// file:// values of app.env); nullopt after printing why.
std::optional<std::string> readSecret(const std::string& file) {
  std::string secret;
  if (file == "-") {
    secret.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      fmt::print(stderr, "conduit hooks: --secret-file: cannot read {}\n", file);
      return std::nullopt;
    }
    secret.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (auto problem = store::importedSecretProblem(secret); !problem.empty()) {
    fmt::print(stderr, "conduit hooks: --secret-file: the secret {}\n", problem);
    return std::nullopt;
  }
  return secret;
}

int import(const HooksOptions& o, store::HookRegistry& registry) {
  auto secret = readSecret(*o.secret_file);
  if (!secret) return kExitUsageOrConfig;
  const store::Hook hook{o.provider, o.repo_id, o.repo_path};
  if (registry.create(hook, *secret) == store::HookRegistry::Outcome::kAlreadyExists) {
    fmt::print(stderr,
               "conduit hooks: {}/{} is registered already; delete the hook first to import "
               "another secret\n",
               o.provider, o.repo_id);
    return kExitFailure;
  }
  // The operator already has the secret: it is not repeated.
  if (o.json) {
    printJson([&](http::JsonWriter& w) {
      w.StartObject();
      w.Key("uri");
      http::writeString(w, payloadUri(hook));
      w.EndObject();
    });
  } else {
    fmt::print("imported {}/{} ({})\n  payload URL: {}\n", hook.provider, hook.repo_id,
               hook.repo_path, payloadUri(hook));
  }
  return kExitOk;
}

std::optional<crypto::SecretBox> secretBox(const config::ServerSettings& settings) {
  if (!settings.secret_key) return std::nullopt;
  return crypto::SecretBox(*settings.secret_key);
}

}  // namespace

int hooks(const HooksOptions& o) {
  using Action = int (*)(const HooksOptions&, store::HookRegistry&);
  const std::pair<std::string_view, Action> actions[] = {{"list", list},
                                                         {"register", registerHook},
                                                         {"rotate", rotate},
                                                         {"delete", removeHook},
                                                         {"import", import}};
  Action action = nullptr;
  for (const auto& [name, run] : actions) {
    if (name == o.action) action = run;
  }
  if (action == nullptr) {
    return usage(o.action.empty()
                     ? "which one? list, register, rotate, delete or import"
                     : fmt::format("unknown subcommand `{}`: list, register, rotate, delete or "
                                   "import",
                                   o.action));
  }
  if (auto problem = checkOptions(o); !problem.empty()) return usage(o.action + ": " + problem);

  auto settings = readCommandSettings(o.config_path);
  if (!settings) return kExitUsageOrConfig;
  try {
    store::RedisPool redis(settings->server.redis,
                           std::chrono::milliseconds(settings->server.redis_timeout_ms));
    store::HookRegistry registry(redis, secretBox(settings->server));
    return action(o, registry);
  } catch (const store::RedisUnavailable& e) {
    return redisFailed("hooks", *settings, e);
  } catch (const store::RedisError& e) {
    return redisFailed("hooks", *settings, e);
  }
}

}  // namespace conduit::app
