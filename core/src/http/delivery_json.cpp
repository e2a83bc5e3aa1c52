#include "http/delivery_json.hpp"

#include <rapidjson/document.h>

#include "http/time_text.hpp"
#include "providers/json_check.hpp"

namespace conduit::http {
namespace {

// `<name>` in RFC 3339 and `<name>_ms` in Unix milliseconds; both null for 0 (not known).
void writeTime(JsonWriter& w, std::string_view name, int64_t unix_ms) {
  writeKey(w, name);
  if (unix_ms == 0) {
    w.Null();
  } else {
    writeString(w, formatRfc3339(unix_ms));
  }
  writeKey(w, std::string(name) + "_ms");
  if (unix_ms == 0) {
    w.Null();
  } else {
    w.Int64(unix_ms);
  }
}

void writeMember(JsonWriter& w, std::string_view name, std::string_view value) {
  writeKey(w, name);
  writeString(w, value);
}

// A plugin's report is a JSON object kept as text (the host checked it when it was reported).
// It is parsed again rather than copied, so that what the log holds can never make the answer
// invalid JSON; one that does not parse is shown as `{"action": "unreadable", "text": ...}`.
void writeAction(JsonWriter& w, std::string_view text) {
  if (providers::isJsonObject(text)) {  // first, so that the parser never sees deep nesting
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    if (!doc.HasParseError() && doc.IsObject()) {
      doc.Accept(w);
      return;
    }
  }
  w.StartObject();
  writeMember(w, "action", "unreadable");
  writeMember(w, "text", text);
  w.EndObject();
}

void writeWorker(JsonWriter& w, const queue::WorkerRecord& worker) {
  w.StartObject();
  writeMember(w, "worker", worker.worker);
  writeMember(w, "outcome", worker.outcome);
  writeMember(w, "message", worker.message);
  w.Key("attempts");
  w.StartArray();
  for (const auto& attempt : worker.attempts) {
    w.StartObject();
    writeTime(w, "at", attempt.at_ms);
    writeMember(w, "outcome", attempt.outcome);
    writeMember(w, "message", attempt.message);
    w.EndObject();
  }
  w.EndArray();
  w.Key("actions");
  w.StartArray();
  for (const auto& action : worker.actions)
    writeAction(w, action);
  w.EndArray();
  w.EndObject();
}

template <typename Write>
std::string jsonText(Write write) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

void writeDeliveryRecord(JsonWriter& w, const queue::DeliveryRecord& record) {
  w.StartObject();
  writeMember(w, "provider", record.provider);
  writeMember(w, "repo_id", record.repo_id);
  writeMember(w, "repo_path", record.repo_path);
  writeMember(w, "event", record.event);
  writeMember(w, "kind", record.kind);
  writeMember(w, "delivery", record.delivery_id);
  writeMember(w, "entry", record.entry_id);
  w.Key("size");
  w.Int64(record.size_bytes);
  writeTime(w, "accepted_at", record.accepted_at_ms);
  writeTime(w, "updated_at", record.updated_at_ms);
  writeMember(w, "status", queue::statusName(record.status));
  writeMember(w, "reason", record.reason);
  if (record.status == queue::DeliveryStatus::kRetrying) {
    writeTime(w, "next_attempt_at", record.next_attempt_ms);
  }
  w.Key("attempts");
  w.Int(record.attempts);
  w.Key("replays");
  w.Int(record.replays);
  w.Key("issues");
  w.StartArray();
  for (const auto& issue : record.issues)
    writeString(w, issue);
  w.EndArray();
  w.Key("workers");
  w.StartArray();
  for (const auto& worker : record.workers)
    writeWorker(w, worker);
  w.EndArray();
  if (record.payload) writeMember(w, "payload", *record.payload);
  w.EndObject();
}

void writeDeadLetter(JsonWriter& w, const queue::DeadLetter& letter) {
  w.StartObject();
  writeMember(w, "id", letter.id);
  writeMember(w, "provider", letter.key.provider);
  writeMember(w, "repo_id", letter.key.repo_id);
  writeMember(w, "repo_path", letter.repo_path);
  writeMember(w, "event", letter.event);
  writeMember(w, "delivery", letter.key.delivery_id);
  writeMember(w, "entry", letter.entry_id);
  writeMember(w, "worker", letter.worker);
  writeMember(w, "error", letter.error);
  w.Key("attempts");
  w.Int(letter.attempts);
  writeTime(w, "received_at", letter.received_at_ms);
  writeTime(w, "failed_at", letter.failed_at_ms);
  w.EndObject();
}

std::string deliveryRecordJson(const queue::DeliveryRecord& record) {
  return jsonText([&](JsonWriter& w) { writeDeliveryRecord(w, record); });
}

std::string deadLetterJson(const queue::DeadLetter& letter) {
  return jsonText([&](JsonWriter& w) { writeDeadLetter(w, letter); });
}

}  // namespace conduit::http
