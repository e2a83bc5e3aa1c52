#include "providers/payload_json.hpp"

#include <rapidjson/pointer.h>

namespace conduit::providers {

std::optional<PayloadJson> PayloadJson::parse(std::string_view payload, std::string& error) {
  PayloadJson json;
  json.buffer_.assign(payload.begin(), payload.end());
  json.buffer_.push_back('\0');
  json.document_.ParseInsitu(json.buffer_.data());
  if (json.document_.HasParseError() || !json.document_.IsObject()) {
    error = "the payload is not a JSON object";
    return std::nullopt;
  }
  return json;
}

const rapidjson::Value* PayloadJson::find(const rapidjson::Value& from, const char* pointer) {
  return rapidjson::Pointer(pointer).Get(from);
}

std::string PayloadJson::text(const rapidjson::Value& from, const char* pointer) {
  const rapidjson::Value* value = find(from, pointer);
  if (value == nullptr) return {};
  if (value->IsString()) return std::string(value->GetString(), value->GetStringLength());
  if (value->IsInt64()) return std::to_string(value->GetInt64());
  if (value->IsUint64()) return std::to_string(value->GetUint64());
  return {};
}

bool PayloadJson::flag(const rapidjson::Value& from, const char* pointer) {
  const rapidjson::Value* value = find(from, pointer);
  return value != nullptr && value->IsBool() && value->GetBool();
}

std::string PayloadJson::firstText(std::initializer_list<const char*> pointers) const {
  return firstText(document_, pointers);
}

std::string PayloadJson::firstText(const rapidjson::Value& from,
                                   std::initializer_list<const char*> pointers) {
  for (const char* pointer : pointers) {
    std::string value = text(from, pointer);
    if (!value.empty()) return value;
  }
  return {};
}

std::optional<std::string> stripPrefix(std::string_view ref, std::string_view prefix) {
  if (ref.substr(0, prefix.size()) != prefix) return std::nullopt;
  return std::string(ref.substr(prefix.size()));
}

}  // namespace conduit::providers
