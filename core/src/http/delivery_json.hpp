#pragma once

#include <string>

#include "http/api_response.hpp"
#include "queue/delivery_log.hpp"

// The JSON of the delivery log's records and dead letters, written the same way by the admin
// API and by the commands' `--json` (docs/http-api.md, "Deliveries", is the contract).
namespace conduit::http {

// A record: its fields, times as RFC 3339 with a `_ms` twin (both null when not known),
// `next_attempt_at` only while retrying, its workers with their attempts and the actions
// their plugins reported (as JSON objects), and `payload` (a string) only when it was read.
void writeDeliveryRecord(JsonWriter& w, const queue::DeliveryRecord& record);

// A dead letter: `{"id", "provider", "repo_id", "repo_path", "event", "delivery", "entry",
// "worker", "error", "attempts", "received_at", "received_at_ms", "failed_at", "failed_at_ms"}`.
void writeDeadLetter(JsonWriter& w, const queue::DeadLetter& letter);

// The same as a JSON text, for the commands.
std::string deliveryRecordJson(const queue::DeliveryRecord& record);
std::string deadLetterJson(const queue::DeadLetter& letter);

}  // namespace conduit::http
