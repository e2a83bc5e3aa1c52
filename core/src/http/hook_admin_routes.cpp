#include "http/hook_admin_routes.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "crypto/digest.hpp"
#include "crypto/hex.hpp"
#include "http/api_response.hpp"
#include "providers/json_check.hpp"
#include "providers/registry.hpp"

namespace conduit::http {
namespace {

constexpr size_t kSecretBytes = 32;
// Admin bodies are a few short strings; anything much larger is a mistake or an attack.
constexpr size_t kMaxAdminBodyBytes = 64 * 1024;

// The fields the hook routes take, read from a JSON body or a query string.
struct HookFields {
  std::string provider;
  std::string repo_id;
  std::string repo_path;
  std::string secret;
};

enum Need : unsigned { kProvider = 1, kRepoId = 2, kRepoPath = 4, kSecret = 8 };

// Checks the fields in `needed`; the first problem comes back as the 400 to answer.
std::optional<Response> validate(const HookFields& f, unsigned needed) {
  if ((needed & kProvider) != 0) {
    if (f.provider.empty())
      return errorResponse(ApiError::kMissingField, "provider is required", "provider");
    if (providers::findProvider(f.provider) == nullptr) {
      return errorResponse(ApiError::kUnknownProvider,
                           fmt::format("unknown provider `{}`; known: {}", f.provider,
                                       fmt::join(providers::providerNames(), ", ")),
                           "provider");
    }
  }
  if ((needed & kRepoId) != 0) {
    if (f.repo_id.empty())
      return errorResponse(ApiError::kMissingField, "repo_id is required", "repo_id");
    if (!store::isValidRepoId(f.repo_id)) {
      return errorResponse(ApiError::kInvalidField,
                           "repo_id must be 1 to 100 of the characters A-Z a-z 0-9 . _ -",
                           "repo_id");
    }
  }
  if ((needed & kRepoPath) != 0) {
    if (f.repo_path.empty()) {
      return errorResponse(ApiError::kMissingField, "repo_path is required, as in org/repo",
                           "repo_path");
    }
    // Every route that takes a repo_path takes the provider too, checked above.
    if (auto problem =
            providers::repoPathProblem(*providers::findProvider(f.provider), f.repo_path)) {
      return errorResponse(ApiError::kInvalidField, "repo_path " + *problem, "repo_path");
    }
  }
  if ((needed & kSecret) != 0) {
    if (f.secret.empty())
      return errorResponse(ApiError::kMissingField, "secret is required", "secret");
    if (auto problem = store::importedSecretProblem(f.secret); !problem.empty()) {
      return errorResponse(ApiError::kInvalidField, "secret " + problem, "secret");
    }
  }
  return std::nullopt;
}

// Reads `{"provider", "repo_id", "repo_path", "secret"}`; unknown members are ignored.
std::optional<Response> parseBody(std::string_view body, HookFields& out) {
  if (body.size() > kMaxAdminBodyBytes) {
    return errorResponse(ApiError::kPayloadTooLarge, "admin bodies are at most 64 KiB");
  }
  // Checked first so that RapidJSON's recursive parser never sees deep nesting.
  if (!providers::isJsonObject(body)) {
    return errorResponse(ApiError::kInvalidJson, "the body must be a JSON object");
  }
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return errorResponse(ApiError::kInvalidJson, "the body must be a JSON object");
  }
  const std::pair<const char*, std::string*> members[] = {{"provider", &out.provider},
                                                          {"repo_id", &out.repo_id},
                                                          {"repo_path", &out.repo_path},
                                                          {"secret", &out.secret}};
  for (const auto& [name, target] : members) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || it->value.IsNull()) continue;
    if (!it->value.IsString()) {
      return errorResponse(ApiError::kInvalidField, fmt::format("{} must be a string", name), name);
    }
    target->assign(it->value.GetString(), it->value.GetStringLength());
  }
  return std::nullopt;
}

void writeHook(JsonWriter& w, const store::Hook& hook) {
  w.StartObject();
  w.Key("provider");
  writeString(w, hook.provider);
  w.Key("repo_id");
  writeString(w, hook.repo_id);
  w.Key("repo_path");
  writeString(w, hook.repo_path);
  w.EndObject();
}

Response secretResponse(int status, const store::Hook& hook, std::string_view secret) {
  return successResponse(status, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("secret");
    writeString(w, secret);
    w.Key("uri");
    writeString(w, fmt::format("/conduit/webhooks/{}/{}/payload", hook.provider, hook.repo_id));
    w.EndObject();
  });
}

std::string newSecret() {
  return crypto::toHex(crypto::randomBytes(kSecretBytes));
}

}  // namespace

HookAdminRoutes::HookAdminRoutes(store::HookRegistry& registry, AdminGuard guard)
    : registry_(registry), guard_(std::move(guard)) {}

void HookAdminRoutes::addTo(Router& router) {
  auto guarded = [this](Response (HookAdminRoutes::*route)(const Request&)) {
    return [this, route](const Request& request) {
      if (auto refusal = guard_.refuse(request)) return std::move(*refusal);
      return (this->*route)(request);
    };
  };
  router.add("POST", "/conduit/webhooks/register", guarded(&HookAdminRoutes::registerHook));
  router.add("PATCH", "/conduit/webhooks/update", guarded(&HookAdminRoutes::updateHook));
  router.add("PATCH", "/webhooks/update", guarded(&HookAdminRoutes::updateHook));
  router.add("PATCH", "/conduit/internal/webhooks/import", guarded(&HookAdminRoutes::importHook));
  router.add("PATCH", "/internal/webhooks/import", guarded(&HookAdminRoutes::importHook));
  router.add("GET", "/conduit/webhooks/find", guarded(&HookAdminRoutes::findHook));
  router.add("GET", "/conduit/webhooks/list", guarded(&HookAdminRoutes::listHooks));
  router.add("DELETE", "/conduit/webhooks/:provider/:repo_id",
             guarded(&HookAdminRoutes::deleteHook));
}

Response HookAdminRoutes::registerHook(const Request& request) {
  HookFields f;
  if (auto bad = parseBody(request.body, f)) return std::move(*bad);
  if (auto bad = validate(f, kProvider | kRepoId | kRepoPath)) return std::move(*bad);

  store::Hook hook{f.provider, f.repo_id, f.repo_path};
  std::string secret = newSecret();
  if (registry_.create(hook, secret) == store::HookRegistry::Outcome::kAlreadyExists) {
    return errorResponse(ApiError::kHookExists,
                         "this provider and repo_id are registered; PATCH /conduit/webhooks/update "
                         "makes a new secret");
  }
  return secretResponse(201, hook, secret);
}

Response HookAdminRoutes::updateHook(const Request& request) {
  HookFields f;
  if (auto bad = parseBody(request.body, f)) return std::move(*bad);
  if (auto bad = validate(f, kProvider | kRepoId | kRepoPath)) return std::move(*bad);

  store::Hook hook{f.provider, f.repo_id, f.repo_path};
  std::string secret = newSecret();
  if (registry_.replaceSecret(hook, secret) == store::HookRegistry::Outcome::kNotFound) {
    return errorResponse(ApiError::kHookNotFound, "no hook has this provider and repo_id");
  }
  return secretResponse(200, hook, secret);
}

Response HookAdminRoutes::importHook(const Request& request) {
  HookFields f;
  if (auto bad = parseBody(request.body, f)) return std::move(*bad);
  if (auto bad = validate(f, kProvider | kRepoId | kRepoPath | kSecret)) return std::move(*bad);

  store::Hook hook{f.provider, f.repo_id, f.repo_path};
  if (registry_.create(hook, f.secret) == store::HookRegistry::Outcome::kAlreadyExists) {
    return errorResponse(ApiError::kHookExists,
                         "this provider and repo_id are registered; delete the hook first to "
                         "import another secret");
  }
  // The caller already has the secret: the answer does not repeat it.
  return successResponse(201, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("uri");
    writeString(w, fmt::format("/conduit/webhooks/{}/{}/payload", hook.provider, hook.repo_id));
    w.EndObject();
  });
}

Response HookAdminRoutes::findHook(const Request& request) {
  HookFields f;
  f.provider = request.query("provider").value_or("");
  f.repo_id = request.query("repo_id").value_or("");
  if (auto bad = validate(f, kProvider | kRepoId)) return std::move(*bad);

  auto hook = registry_.find(f.provider, f.repo_id);
  if (!hook) return errorResponse(ApiError::kHookNotFound, "no hook has this provider and repo_id");
  return successResponse(200, [&](JsonWriter& w) { writeHook(w, *hook); });
}

Response HookAdminRoutes::listHooks(const Request& request) {
  HookFields f;
  f.provider = request.query("provider").value_or("");
  if (auto bad = validate(f, kProvider)) return std::move(*bad);

  auto hooks = registry_.list(f.provider);
  return successResponse(200, [&](JsonWriter& w) {
    w.StartArray();
    for (const auto& hook : hooks)
      writeHook(w, hook);
    w.EndArray();
  });
}

Response HookAdminRoutes::deleteHook(const Request& request) {
  std::string_view provider = request.param("provider");
  std::string_view repo_id = request.param("repo_id");
  if (providers::findProvider(provider) == nullptr || !store::isValidRepoId(repo_id) ||
      !registry_.remove(provider, repo_id)) {
    return errorResponse(ApiError::kHookNotFound, "no hook has this provider and repo_id");
  }
  Response response;
  response.status = 204;
  response.content_type = {};
  return response;
}

}  // namespace conduit::http
