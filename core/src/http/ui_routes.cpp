#include "http/ui_routes.hpp"

#include <chrono>
#include <string_view>

#include <rapidjson/document.h>

#include "crypto/digest.hpp"
#include "http/api_response.hpp"
#include "http/time_text.hpp"
#include "http/ui_assets.hpp"
#include "providers/json_check.hpp"
#include "providers/registry.hpp"
#include "queue/redis_keys.hpp"

namespace conduit::http {
namespace {

// A sign-in body is one token; anything much larger is a mistake or an attack.
constexpr size_t kMaxLoginBodyBytes = 8 * 1024;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One field of an application/x-www-form-urlencoded body, decoded; nullopt when absent or
// badly encoded.
std::optional<std::string> formField(std::string_view body, std::string_view name) {
  while (!body.empty()) {
    const size_t end = body.find('&');
    const std::string_view pair = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos || pair.substr(0, equals) != name) continue;
    std::string value;
    const std::string_view encoded = pair.substr(equals + 1);
    for (size_t i = 0; i < encoded.size(); ++i) {
      if (encoded[i] == '+') {
        value += ' ';
      } else if (encoded[i] == '%') {
        if (i + 2 >= encoded.size()) return std::nullopt;
        const int high = hexDigit(encoded[i + 1]);
        const int low = hexDigit(encoded[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        value += static_cast<char>(high * 16 + low);
        i += 2;
      } else {
        value += encoded[i];
      }
    }
    return value;
  }
  return std::nullopt;
}

bool isForm(const Request& request) {
  auto type = request.header("Content-Type");
  return type && type->rfind("application/x-www-form-urlencoded", 0) == 0;
}

// The `token` of a sign-in: a form field, or a JSON body's member.
std::optional<std::string> loginToken(const Request& request) {
  if (isForm(request)) return formField(request.body, "token");
  if (!providers::isJsonObject(request.body)) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(request.body.data(), request.body.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto it = doc.FindMember("token");
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::string sessionCookie(const UiSessions::Session& session, std::chrono::hours lifetime) {
  // No `Secure`: whether the browser reached Conduit over TLS (through a proxy) is not known
  // here, and a cookie marked Secure would not come back over plain http on loopback.
  return std::string(UiSessions::kCookieName) + "=" + session.cookie +
         "; Path=/conduit; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(lifetime).count());
}

std::string clearedCookie() {
  return std::string(UiSessions::kCookieName) +
         "=; Path=/conduit; HttpOnly; SameSite=Strict; Max-Age=0";
}

Response withHeaders(Response response) {
  addUiSecurityHeaders(response);
  return response;
}

void writeTime(JsonWriter& w, std::string_view name, int64_t ms) {
  writeKey(w, name);
  writeString(w, formatRfc3339(ms));
  writeKey(w, std::string(name) + "_ms");
  w.Int64(ms);
}

// Unix milliseconds of a stream entry id (`<ms>-<seq>`); 0 when it is not one.
int64_t entryMs(std::string_view id) {
  int64_t ms = 0;
  for (char c : id.substr(0, id.find('-'))) {
    if (c < '0' || c > '9') return 0;
    ms = ms * 10 + (c - '0');
  }
  return ms;
}

}  // namespace

void addUiSecurityHeaders(Response& response) {
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'none'; script-src 'self'; style-src 'self'; "
                                "img-src 'self'; connect-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("Cache-Control", "no-store");
}

UiRoutes::UiRoutes(AdminGuard guard, store::RedisPool& redis, UiOptions options)
    : guard_(std::move(guard)), redis_(redis), options_(std::move(options)) {}

void UiRoutes::addTo(Router& router) {
  auto route = [this](Response (UiRoutes::*handler)(const Request&) const) {
    return
        [this, handler](const Request& request) { return withHeaders((this->*handler)(request)); };
  };
  router.add("GET", "/conduit/ui", [](const Request&) {
    Response response;
    response.status = 308;
    response.content_type = {};
    response.headers.emplace_back("Location", "/conduit/ui/");
    return withHeaders(std::move(response));
  });
  router.add("GET", "/conduit/ui/", route(&UiRoutes::page));
  // Before /conduit/ui/:file, which would otherwise take these names for files.
  router.add("GET", "/conduit/ui/session", route(&UiRoutes::session));
  router.add("GET", "/conduit/ui/summary", route(&UiRoutes::summary));
  router.add("POST", "/conduit/ui/login", route(&UiRoutes::login));
  router.add("POST", "/conduit/ui/logout", route(&UiRoutes::logout));
  router.add("GET", "/conduit/ui/:file", route(&UiRoutes::asset));
}

std::optional<Response> UiRoutes::refusePage(const Request& request) const {
  // The files hold no data: with an admin_token anyone may load them and sign in. Without one
  // the page answers whom the admin routes answer.
  if (guard_.tokenConfigured() || guard_.loopbackAdmitted(request)) return std::nullopt;
  return guard_.refuse(request);
}

Response UiRoutes::page(const Request& request) const {
  if (auto refusal = refusePage(request)) return std::move(*refusal);
  const UiAsset* index = findUiAsset("index.html");
  Response response;
  response.content_type = index->content_type;
  response.body = std::string(index->bytes);
  return response;
}

Response UiRoutes::asset(const Request& request) const {
  if (auto refusal = refusePage(request)) return std::move(*refusal);
  const UiAsset* file = findUiAsset(request.param("file"));
  if (file == nullptr || file->name == "index.html") {
    return errorResponse(ApiError::kRouteNotFound, "the page has no such file");
  }
  Response response;
  response.content_type = file->content_type;
  response.body = std::string(file->bytes);
  return response;
}

Response UiRoutes::session(const Request& request) const {
  if (AdminGuard::crossSite(request)) return *guard_.refuse(request);
  if (!guard_.tokenConfigured() && !guard_.loopbackAdmitted(request)) {
    return *guard_.refuse(request);
  }
  const auto signed_in = guard_.session(request);
  // Without an admin_token (loopback) or with the bearer token, no sign-in is needed.
  const bool admitted = guard_.loopbackAdmitted(request) || guard_.bearerValid(request);
  return successResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("signed_in");
    w.Bool(admitted || signed_in.has_value());
    w.Key("sign_in_needed");
    w.Bool(guard_.tokenConfigured());
    w.Key("csrf_token");
    if (signed_in) {
      writeString(w, signed_in->csrf_token);
      writeTime(w, "expires_at", signed_in->expires_at_ms);
    } else {
      w.Null();
    }
    if (admitted || signed_in) {
      w.Key("issue_base_url");
      if (options_.issue_base_url.empty()) {
        w.Null();
      } else {
        writeString(w, options_.issue_base_url);
      }
      w.Key("version");
      writeString(w, options_.version);
      w.Key("refresh_seconds");
      w.Int(options_.refresh_seconds);
      w.Key("providers");
      w.StartArray();
      for (auto name : providers::providerNames())
        writeString(w, name);
      w.EndArray();
    }
    w.EndObject();
  });
}

Response UiRoutes::login(const Request& request) const {
  if (AdminGuard::crossSite(request)) return *guard_.refuse(request);
  if (request.body.size() > kMaxLoginBodyBytes) {
    return errorResponse(ApiError::kPayloadTooLarge, "a sign-in is at most 8 KiB");
  }
  if (!guard_.tokenConfigured()) {
    if (!guard_.loopbackAdmitted(request)) return *guard_.refuse(request);
    // Nothing to sign in to: the admin routes answer this client as it is.
    return successResponse(200, [](JsonWriter& w) {
      w.StartObject();
      w.Key("csrf_token");
      w.Null();
      w.EndObject();
    });
  }
  const auto token = loginToken(request);
  if (!token || !guard_.tokenMatches(*token)) {
    return errorResponse(ApiError::kUnauthorized, "that is not the admin_token");
  }
  const auto session = guard_.sessions()->create();
  const std::string cookie = sessionCookie(session, guard_.sessions()->lifetime());
  if (isForm(request)) {
    // A form posted without JavaScript: back to the page, signed in.
    Response response;
    response.status = 303;
    response.content_type = {};
    response.headers.emplace_back("Location", "/conduit/ui/");
    response.headers.emplace_back("Set-Cookie", cookie);
    return response;
  }
  Response response = successResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("csrf_token");
    writeString(w, session.csrf_token);
    writeTime(w, "expires_at", session.expires_at_ms);
    w.EndObject();
  });
  response.headers.emplace_back("Set-Cookie", cookie);
  return response;
}

Response UiRoutes::logout(const Request& request) const {
  if (AdminGuard::crossSite(request)) return *guard_.refuse(request);
  if (auto signed_in = guard_.session(request)) {
    auto token = request.header("X-CSRF-Token");
    if (!token || !guard_.sessions()->csrfValid(*signed_in, *token)) {
      return errorResponse(ApiError::kCsrfTokenInvalid,
                           "signing out needs the session's X-CSRF-Token");
    }
    guard_.sessions()->signOut(*signed_in);
  }
  Response response;
  response.status = 204;
  response.content_type = {};
  response.headers.emplace_back("Set-Cookie", clearedCookie());
  return response;
}

Response UiRoutes::summary(const Request& request) const {
  if (auto refusal = guard_.refuse(request)) return std::move(*refusal);
  auto replies = redis_.run(store::Retry::kIdempotent, [](store::RedisConnection& c) {
    return c.pipeline({{"XLEN", queue::redis_keys::kStream},
                       {"XRANGE", queue::redis_keys::kStream, "-", "+", "COUNT", "1"},
                       {"XLEN", queue::redis_keys::kDeadLetterStream}});
  });
  const int64_t now = nowMs();
  int64_t oldest_ms = 0;
  if (!replies[1].elements.empty() && !replies[1].elements[0].elements.empty()) {
    oldest_ms = entryMs(replies[1].elements[0].elements[0].text);
  }
  return successResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("queue_length");
    w.Int64(replies[0].integer);
    if (oldest_ms > 0) {
      writeTime(w, "oldest_at", oldest_ms);
      w.Key("oldest_age_seconds");
      w.Double(static_cast<double>(std::max<int64_t>(0, now - oldest_ms)) / 1000.0);
    } else {
      w.Key("oldest_at");
      w.Null();
      w.Key("oldest_at_ms");
      w.Null();
      w.Key("oldest_age_seconds");
      w.Int(0);
    }
    w.Key("dead_letters");
    w.Int64(replies[2].integer);
    writeTime(w, "at", now);
    w.EndObject();
  });
}

}  // namespace conduit::http
