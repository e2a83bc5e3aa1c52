#include "http/delivery_routes.hpp"

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "http/api_response.hpp"
#include "http/delivery_json.hpp"
#include "http/time_text.hpp"
#include "providers/json_check.hpp"
#include "providers/registry.hpp"
#include "queue/delivery.hpp"
#include "store/hook.hpp"

namespace conduit::http {
namespace {

// Admin bodies are a few short strings; anything much larger is a mistake or an attack.
constexpr size_t kMaxAdminBodyBytes = 64 * 1024;
constexpr int kMaxLimit = 500;
constexpr size_t kMaxCursorBytes = 256;
constexpr size_t kMaxNameBytes = 100;
constexpr size_t kMaxIssueKeyBytes = 64;
// A bulk replay by ids names at most this many deliveries; more go by filter.
constexpr size_t kMaxReplayIds = 1000;

// 1 to `max` of A-Z a-z 0-9 . _ - : an event kind (pull_request.merged) or a worker's name.
bool isName(std::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-')
      return false;
  }
  return true;
}

// An issue key as the Jira plugin reports them: a project key, a dash and a number (SOC-12).
bool isIssueKey(std::string_view s) {
  if (s.empty() || s.size() > kMaxIssueKeyBytes) return false;
  const size_t dash = s.rfind('-');
  if (dash == 0 || dash == std::string_view::npos || dash + 1 == s.size()) return false;
  if (std::isalpha(static_cast<unsigned char>(s.front())) == 0) return false;
  for (size_t i = 0; i < dash; ++i) {
    if (std::isalnum(static_cast<unsigned char>(s[i])) == 0 && s[i] != '_') return false;
  }
  for (size_t i = dash + 1; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) return false;
  }
  return true;
}

// A cursor is the log's own text; only its form is checked here.
bool isCursor(std::string_view s) {
  if (s.size() > kMaxCursorBytes) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Pistache hands query values over as sent: `%2B` (a `+` of an offset, encoded as clients
// should) is decoded here. A `+` itself is kept, not read as a space, so that
// `since=2026-12-05T14:02:03+01:00` typed as is works too.
std::string percentDecoded(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A query parameter; empty when absent or empty (both mean "any").
std::string queryValue(const Request& request, std::string_view name) {
  auto value = request.query(name);
  return value ? percentDecoded(*value) : std::string();
}

Response invalid(std::string_view field, std::string_view detail) {
  return errorResponse(ApiError::kInvalidField, detail, field);
}

std::optional<Response> checkProvider(const std::string& provider, std::string_view field) {
  if (provider.empty() || providers::findProvider(provider) != nullptr) return std::nullopt;
  return errorResponse(ApiError::kUnknownProvider,
                       fmt::format("unknown provider `{}`; known: {}", provider,
                                   fmt::join(providers::providerNames(), ", ")),
                       field);
}

std::optional<Response> checkRepoId(const std::string& repo_id, std::string_view field) {
  if (repo_id.empty() || store::isValidRepoId(repo_id)) return std::nullopt;
  return invalid(field, "repo_id must be 1 to 100 of the characters A-Z a-z 0-9 . _ -");
}

std::optional<Response> checkWorker(const std::string& worker, std::string_view field) {
  if (worker.empty() || isName(worker, kMaxNameBytes)) return std::nullopt;
  return invalid(field, "worker must be a worker's name: 1 to 100 of A-Z a-z 0-9 . _ -");
}

std::optional<Response> parseTimeField(const std::string& text, std::string_view field,
                                       int64_t& out) {
  if (text.empty()) return std::nullopt;
  auto ms = parseTime(text);
  if (!ms || *ms <= 0) {
    return invalid(field, fmt::format("{} must be an RFC 3339 time (2026-12-05T14:02:03Z) or "
                                      "Unix milliseconds",
                                      field));
  }
  out = *ms;
  return std::nullopt;
}

std::optional<Response> checkTimeRange(const queue::DeliveryFilter& filter) {
  if (filter.since_ms != 0 && filter.until_ms != 0 && filter.until_ms < filter.since_ms)
    return invalid("until", "until is before since");
  return std::nullopt;
}

// The filters both listings take: provider, repo_id, since, until, limit, cursor.
std::optional<Response> readCommonFilters(const Request& request, queue::DeliveryFilter& out) {
  out.provider = queryValue(request, "provider");
  if (auto bad = checkProvider(out.provider, "provider")) return bad;
  out.repo_id = queryValue(request, "repo_id");
  if (auto bad = checkRepoId(out.repo_id, "repo_id")) return bad;
  if (auto bad = parseTimeField(queryValue(request, "since"), "since", out.since_ms)) return bad;
  if (auto bad = parseTimeField(queryValue(request, "until"), "until", out.until_ms)) return bad;
  if (auto bad = checkTimeRange(out)) return bad;

  const std::string limit = queryValue(request, "limit");
  if (!limit.empty()) {
    int value = 0;
    const auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), value);
    if (ec != std::errc() || end != limit.data() + limit.size() || value < 1 || value > kMaxLimit) {
      return invalid("limit", "limit must be a whole number from 1 to 500");
    }
    out.limit = value;
  }
  out.cursor = queryValue(request, "cursor");
  if (!isCursor(out.cursor)) {
    return invalid("cursor", "cursor must be a next_cursor of an earlier page");
  }
  return std::nullopt;
}

// `true` or `false` (absent: false); anything else is a 400 naming the parameter.
std::optional<Response> readFlag(const Request& request, std::string_view name, bool& out) {
  const std::string value = queryValue(request, name);
  if (value.empty() || value == "false") {
    out = false;
  } else if (value == "true") {
    out = true;
  } else {
    return invalid(name, fmt::format("{} must be true or false", name));
  }
  return std::nullopt;
}

// The delivery named by the path; nullopt when it cannot name one (no record can exist then).
std::optional<queue::DeliveryKey> pathKey(const Request& request) {
  queue::DeliveryKey key{std::string(request.param("provider")),
                         std::string(request.param("repo_id")),
                         std::string(request.param("delivery"))};
  if (providers::findProvider(key.provider) == nullptr || !store::isValidRepoId(key.repo_id) ||
      !queue::isValidDeliveryId(key.delivery_id)) {
    return std::nullopt;
  }
  return key;
}

Response noDelivery() {
  return errorResponse(ApiError::kDeliveryNotFound,
                       "no record of this delivery: never accepted, or past delivery_log_hours "
                       "or delivery_log_max");
}

Response noContent() {
  Response response;
  response.status = 204;
  response.content_type = {};
  return response;
}

// The log's reading of a cursor it did not write is its own; a cursor it refuses is the
// client's mistake, not the server's.
template <typename List>
auto listing(List list) -> std::variant<decltype(list()), Response> {
  try {
    return list();
  } catch (const std::invalid_argument&) {
    return invalid("cursor", "cursor must be a next_cursor of an earlier page");
  }
}

void writeNextCursor(JsonWriter& w, const std::string& cursor) {
  w.Key("next_cursor");
  if (cursor.empty()) {
    w.Null();
  } else {
    writeString(w, cursor);
  }
}

// ---- The bulk replay's body ----

std::optional<Response> readBodyString(const rapidjson::Value& value, std::string_view field,
                                       std::string& out) {
  if (value.IsNull()) return std::nullopt;
  if (!value.IsString()) return invalid(field, fmt::format("{} must be a string", field));
  out.assign(value.GetString(), value.GetStringLength());
  return std::nullopt;
}

// A time in a body: a string (RFC 3339 or Unix milliseconds) or a number (Unix milliseconds).
std::optional<Response> readBodyTime(const rapidjson::Value& value, std::string_view field,
                                     int64_t& out) {
  if (value.IsNull()) return std::nullopt;
  if (value.IsInt64() && value.GetInt64() > 0) {
    out = value.GetInt64();
    return std::nullopt;
  }
  if (value.IsString()) {
    const std::string text(value.GetString(), value.GetStringLength());
    if (text.empty()) return invalid(field, fmt::format("{} must not be empty", field));
    return parseTimeField(text, field, out);
  }
  return invalid(field, fmt::format("{} must be an RFC 3339 time or Unix milliseconds", field));
}

std::optional<Response> readDeliveryList(const rapidjson::Value& list,
                                         std::vector<queue::DeliveryKey>& out) {
  if (!list.IsArray() || list.Empty()) {
    return invalid("deliveries",
                   "deliveries must be a non-empty array of {\"provider\", \"repo_id\", "
                   "\"delivery\"}");
  }
  if (list.Size() > kMaxReplayIds) {
    return invalid("deliveries", "at most 1000 deliveries per request; replay more by filter");
  }
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    const std::string at = fmt::format("deliveries[{}]", i);
    const rapidjson::Value& item = list[i];
    if (!item.IsObject()) {
      return invalid(at, fmt::format("{} must be an object with provider, repo_id, delivery", at));
    }
    queue::DeliveryKey key;
    const std::pair<const char*, std::string*> members[] = {
        {"provider", &key.provider}, {"repo_id", &key.repo_id}, {"delivery", &key.delivery_id}};
    for (const auto& [name, target] : members) {
      const std::string field = fmt::format("{}.{}", at, name);
      auto it = item.FindMember(name);
      if (it == item.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0) {
        return errorResponse(ApiError::kMissingField,
                             fmt::format("{} is required, a string", field), field);
      }
      target->assign(it->value.GetString(), it->value.GetStringLength());
    }
    if (auto bad = checkProvider(key.provider, at + ".provider")) return bad;
    if (auto bad = checkRepoId(key.repo_id, at + ".repo_id")) return bad;
    if (!queue::isValidDeliveryId(key.delivery_id)) {
      return invalid(at + ".delivery",
                     "a delivery id is 1 to 128 of the characters A-Z a-z 0-9 . _ : -");
    }
    out.push_back(std::move(key));
  }
  return std::nullopt;
}

// `{"deliveries": [...]}` or `{"since", "until", "provider", "repo_id", "worker"}` (`{}`: all).
// A member of neither form is refused rather than ignored: a misspelt filter would otherwise
// widen the replay to every dead letter.
std::optional<Response> readReplaySelection(std::string_view body,
                                            queue::DeadLetterSelection& out) {
  if (body.size() > kMaxAdminBodyBytes) {
    return errorResponse(ApiError::kPayloadTooLarge, "admin bodies are at most 64 KiB");
  }
  // Checked first so that RapidJSON's recursive parser never sees deep nesting.
  if (!providers::isJsonObject(body)) {
    return errorResponse(ApiError::kInvalidJson,
                         "the body must be a JSON object: {\"deliveries\": [...]} or a filter, "
                         "{} for every dead letter");
  }
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return errorResponse(ApiError::kInvalidJson, "the body must be a JSON object");
  }
  queue::DeliveryFilter& filter = out.filter;
  bool by_filter = false;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string name(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& value = it->value;
    std::optional<Response> bad;
    if (name == "deliveries") {
      bad = readDeliveryList(value, out.deliveries);
    } else if (name == "provider") {
      bad = readBodyString(value, name, filter.provider);
      if (!bad) bad = checkProvider(filter.provider, name);
    } else if (name == "repo_id") {
      bad = readBodyString(value, name, filter.repo_id);
      if (!bad) bad = checkRepoId(filter.repo_id, name);
    } else if (name == "worker") {
      bad = readBodyString(value, name, filter.worker);
      if (!bad) bad = checkWorker(filter.worker, name);
    } else if (name == "since") {
      bad = readBodyTime(value, name, filter.since_ms);
    } else if (name == "until") {
      bad = readBodyTime(value, name, filter.until_ms);
    } else {
      std::string shown = name.substr(0, 64);
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      }
      bad = invalid(shown,
                    "a replay takes deliveries, or since, until, provider, repo_id and "
                    "worker");
    }
    if (bad) return bad;
    if (name != "deliveries") by_filter = true;
  }
  if (auto bad = checkTimeRange(filter)) return bad;
  if (!out.deliveries.empty() && by_filter) {
    return invalid("deliveries", "give either deliveries or a filter, not both");
  }
  return std::nullopt;
}

}  // namespace

DeliveryRoutes::DeliveryRoutes(queue::DeliveryLog& log, const RefusedRequests& refused,
                               AdminGuard guard)
    : log_(log), refused_(refused), guard_(std::move(guard)) {}

void DeliveryRoutes::addTo(Router& router) {
  auto guarded = [this](Response (DeliveryRoutes::*route)(const Request&)) {
    return [this, route](const Request& request) {
      if (auto refusal = guard_.refuse(request)) return std::move(*refusal);
      return (this->*route)(request);
    };
  };
  router.add("GET", "/conduit/deliveries", guarded(&DeliveryRoutes::listDeliveries));
  // Before the :provider/:repo_id/:delivery routes, though they cannot clash (3 segments, 5).
  router.add("GET", "/conduit/deliveries/refused", guarded(&DeliveryRoutes::listRefused));
  router.add("GET", "/conduit/deliveries/:provider/:repo_id/:delivery",
             guarded(&DeliveryRoutes::showDelivery));
  router.add("POST", "/conduit/deliveries/:provider/:repo_id/:delivery/replay",
             guarded(&DeliveryRoutes::replayDelivery));
  router.add("GET", "/conduit/dead-letters", guarded(&DeliveryRoutes::listDeadLetters));
  router.add("POST", "/conduit/dead-letters/replay", guarded(&DeliveryRoutes::replayDeadLetters));
  router.add("DELETE", "/conduit/dead-letters/:provider/:repo_id/:delivery",
             guarded(&DeliveryRoutes::discardDeadLetters));
}

Response DeliveryRoutes::listDeliveries(const Request& request) {
  queue::DeliveryFilter filter;
  if (auto bad = readCommonFilters(request, filter)) return std::move(*bad);
  const std::string status = queryValue(request, "status");
  if (!status.empty()) {
    filter.status = queue::parseStatus(status);
    if (!filter.status) {
      return invalid("status",
                     "status must be one of queued, processing, retrying, done, dead, ignored");
    }
  }
  filter.kind = queryValue(request, "kind");
  if (!filter.kind.empty() && !isName(filter.kind, kMaxNameBytes)) {
    return invalid("kind", "kind must be an event kind such as pull_request.merged");
  }
  filter.issue = queryValue(request, "issue");
  if (!filter.issue.empty() && !isIssueKey(filter.issue)) {
    return invalid("issue", "issue must be an issue key such as SOC-12");
  }

  auto page = listing([&] { return log_.list(filter); });
  if (auto* bad = std::get_if<Response>(&page)) return std::move(*bad);
  const auto& found = std::get<queue::DeliveryPage>(page);
  return successResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("deliveries");
    w.StartArray();
    for (const auto& record : found.records)
      writeDeliveryRecord(w, record);
    w.EndArray();
    writeNextCursor(w, found.next_cursor);
    w.EndObject();
  });
}

Response DeliveryRoutes::listRefused(const Request&) {
  const auto refused = refused_.newestFirst();
  return successResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("refused");
    w.StartArray();
    for (const auto& r : refused) {
      w.StartObject();
      w.Key("at");
      writeString(w, formatRfc3339(r.at_ms));
      w.Key("at_ms");
      w.Int64(r.at_ms);
      w.Key("method");
      writeString(w, r.method);
      w.Key("path");
      writeString(w, r.path);
      w.Key("route");
      writeString(w, r.route);
      w.Key("status");
      w.Int(r.status);
      w.Key("error");
      writeString(w, r.error);
      w.Key("delivery");
      writeString(w, r.delivery);
      w.Key("source");
      writeString(w, r.source);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

Response DeliveryRoutes::showDelivery(const Request& request) {
  bool with_payload = false;
  if (auto bad = readFlag(request, "payload", with_payload)) return std::move(*bad);
  auto key = pathKey(request);
  if (!key) return noDelivery();
  auto record = log_.find(*key, with_payload);
  if (!record) return noDelivery();
  return successResponse(200, [&](JsonWriter& w) { writeDeliveryRecord(w, *record); });
}

Response DeliveryRoutes::replayDelivery(const Request& request) {
  bool force = false;
  if (auto bad = readFlag(request, "force", force)) return std::move(*bad);
  auto key = pathKey(request);
  if (!key) return noDelivery();
  const auto result = log_.replay(*key, force);
  switch (result.outcome) {
    case queue::ReplayOutcome::kQueued:
      break;
    case queue::ReplayOutcome::kNotFound:
      return noDelivery();
    case queue::ReplayOutcome::kNotFailed:
      return errorResponse(ApiError::kNotFailed,
                           "this delivery ended well (done or ignored); replay it with "
                           "?force=true to run every worker again");
    case queue::ReplayOutcome::kInProgress:
      return errorResponse(ApiError::kDeliveryInProgress,
                           "this delivery is still queued, processing or retrying");
  }
  spdlog::info("delivery {} replayed{} by an admin request from {}: queued as {}",
               queue::redis_keys::deliveryIdentity(key->provider, key->repo_id, key->delivery_id),
               force ? " (forced)" : "", request.peer.empty() ? "-" : request.peer,
               result.entry_id);
  return successResponse(202, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("delivery");
    writeString(w, key->delivery_id);
    w.Key("entry");
    writeString(w, result.entry_id);
    w.Key("replayed");
    w.Bool(true);
    w.EndObject();
  });
}

Response DeliveryRoutes::listDeadLetters(const Request& request) {
  queue::DeliveryFilter filter;
  if (auto bad = readCommonFilters(request, filter)) return std::move(*bad);
  filter.worker = queryValue(request, "worker");
  if (auto bad = checkWorker(filter.worker, "worker")) return std::move(*bad);

  auto page = listing([&] { return log_.listDeadLetters(filter); });
  if (auto* bad = std::get_if<Response>(&page)) return std::move(*bad);
  const auto& found = std::get<queue::DeadLetterPage>(page);
  return successResponse(200, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("dead_letters");
    w.StartArray();
    for (const auto& letter : found.letters)
      writeDeadLetter(w, letter);
    w.EndArray();
    writeNextCursor(w, found.next_cursor);
    w.EndObject();
  });
}

Response DeliveryRoutes::replayDeadLetters(const Request& request) {
  queue::DeadLetterSelection selection;
  if (auto bad = readReplaySelection(request.body, selection)) return std::move(*bad);
  const int replayed = log_.replayDeadLetters(selection);
  spdlog::info("{} dead-lettered deliveries replayed by an admin request from {}", replayed,
               request.peer.empty() ? "-" : request.peer);
  return successResponse(202, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("replayed");
    w.Int(replayed);
    w.EndObject();
  });
}

Response DeliveryRoutes::discardDeadLetters(const Request& request) {
  auto key = pathKey(request);
  if (!key || !log_.discardDeadLetters(*key)) {
    return errorResponse(ApiError::kDeadLetterNotFound, "this delivery has no dead letter");
  }
  // Discarding is for good: the log keeps who did it.
  spdlog::warn("dead letters of delivery {} discarded for good by an admin request from {}",
               queue::redis_keys::deliveryIdentity(key->provider, key->repo_id, key->delivery_id),
               request.peer.empty() ? "-" : request.peer);
  return noContent();
}

}  // namespace conduit::http
