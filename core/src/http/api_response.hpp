#pragma once

#include <functional>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "http/request.hpp"

namespace conduit::http {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Every kind of error the API answers. Each has a stable number (`error_code`) and name
// (`error_msg`), listed in docs/http-api.md; add new ones at the end, never renumber.
enum class ApiError {
  kInvalidJson,
  kMissingField,
  kInvalidField,
  kUnknownProvider,
  kMissingEventHeader,
  kMissingDeliveryHeader,
  kInvalidDeliveryId,
  kInvalidPayload,
  kUnauthorized,
  kAdminLoopbackOnly,
  kSignatureMissing,
  kSignatureMalformed,
  kSignatureMismatch,
  kHookNotFound,
  kRouteNotFound,
  kMethodNotAllowed,
  kHookExists,
  kPayloadTooLarge,
  kUnsupportedContentType,
  kInternalError,
  kHookSecretUnreadable,
  kRedisUnavailable,
  kShuttingDown,
  kLengthRequired,
  kMalformedRequest,
  kRequestHeaderTooLarge,
  kRequestTimeout,
  kServerBusy,
  kDeliveryNotFound,    // no record of this delivery in the delivery log
  kDeadLetterNotFound,  // no dead letter of this delivery
  kNotFailed,           // a replay of a delivery that ended well, without force
  kDeliveryInProgress,  // a replay of a delivery still queued, processing or retrying
  kCsrfTokenInvalid,    // a changing request of the web page without its session's token
  kWrongProvider,       // a delivery of another code host than the hook's
};

struct ApiErrorInfo {
  int status;
  int code;
  std::string_view name;
};

const ApiErrorInfo& describe(ApiError error);

// `{"success": false, "error_code": N, "error_msg": "name"}`, with `field` (the request field
// at fault) and `detail` (a sentence for people) where given.
Response errorResponse(ApiError error, std::string_view detail = {}, std::string_view field = {});

// `{"success": true, "data": ...}`, where `write_data` writes the data value.
Response successResponse(int status, const std::function<void(JsonWriter&)>& write_data);

// A JSON string value from a view (RapidJSON wants a length, not a terminator).
inline void writeString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline void writeKey(JsonWriter& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

}  // namespace conduit::http
