#include "http/api_response.hpp"

namespace conduit::http {

const ApiErrorInfo& describe(ApiError error) {
  // The numbers are part of the API: clients match on them. Never renumber.
  static const ApiErrorInfo kTable[] = {
      {400, 1001, "invalid_json"},
      {400, 1002, "missing_field"},
      {400, 1003, "invalid_field"},
      {400, 1004, "unknown_provider"},
      {400, 1005, "missing_event_header"},
      {400, 1006, "missing_delivery_header"},
      {400, 1007, "invalid_delivery_id"},
      {400, 1008, "invalid_payload"},
      {401, 1101, "unauthorized"},
      {401, 1102, "admin_loopback_only"},
      {401, 1103, "signature_missing"},
      {401, 1104, "signature_malformed"},
      {401, 1105, "signature_mismatch"},
      {404, 1201, "hook_not_found"},
      {404, 1202, "route_not_found"},
      {405, 1203, "method_not_allowed"},
      {409, 1301, "hook_exists"},
      {413, 1401, "payload_too_large"},
      {415, 1402, "unsupported_content_type"},
      {500, 1501, "internal_error"},
      {500, 1502, "hook_secret_unreadable"},
      {503, 1503, "redis_unavailable"},
      {503, 1504, "shutting_down"},
      {411, 1403, "length_required"},
      {400, 1009, "malformed_request"},
      {431, 1404, "request_header_too_large"},
      {408, 1405, "request_timeout"},
      {503, 1505, "server_busy"},
      {404, 1204, "delivery_not_found"},
      {404, 1205, "dead_letter_not_found"},
      {409, 1302, "not_failed"},
      {409, 1303, "delivery_in_progress"},
      {403, 1106, "csrf_token_invalid"},
      {400, 1010, "wrong_provider"},
  };
  return kTable[static_cast<size_t>(error)];
}

Response errorResponse(ApiError error, std::string_view detail, std::string_view field) {
  const ApiErrorInfo& info = describe(error);
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("success");
  w.Bool(false);
  w.Key("error_code");
  w.Int(info.code);
  w.Key("error_msg");
  writeString(w, info.name);
  if (!field.empty()) {
    w.Key("field");
    writeString(w, field);
  }
  if (!detail.empty()) {
    w.Key("detail");
    writeString(w, detail);
  }
  w.EndObject();
  Response response;
  response.status = info.status;
  response.error = info.name;
  response.body.assign(buffer.GetString(), buffer.GetSize());
  return response;
}

Response successResponse(int status, const std::function<void(JsonWriter&)>& write_data) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("success");
  w.Bool(true);
  w.Key("data");
  write_data(w);
  w.EndObject();
  Response response;
  response.status = status;
  response.body.assign(buffer.GetString(), buffer.GetSize());
  return response;
}

}  // namespace conduit::http
