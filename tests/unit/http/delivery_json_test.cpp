#include "http/delivery_json.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

using conduit::queue::DeadLetter;
using conduit::queue::DeliveryRecord;
using conduit::queue::DeliveryStatus;
using conduit::queue::WorkerRecord;

namespace {

rapidjson::Document parsed(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

DeliveryRecord record() {
  DeliveryRecord r;
  r.provider = "github";
  r.repo_id = "payments-service";
  r.repo_path = "acme/payments-service";
  r.event = "pull_request";
  r.kind = "pull_request.merged";
  r.delivery_id = "72d3162e";
  r.entry_id = "1796479323123-0";
  r.size_bytes = 31337;
  r.accepted_at_ms = 1796479323123;
  r.updated_at_ms = 1796479324000;
  r.status = DeliveryStatus::kDone;
  r.attempts = 1;
  r.issues = {"SOC-1", "SOC-2"};
  WorkerRecord jira;
  jira.worker = "jira";
  jira.outcome = "ok";
  jira.attempts = {{1796479324000, "ok", ""}};
  jira.actions = {R"({"action":"moved","issue":"SOC-1","from":"To Do","to":"In Progress"})",
                  "not json {", R"({"action":"commented","issue":"SOC-2","n":3})"};
  r.workers.push_back(jira);
  return r;
}

}  // namespace

TEST_CASE("delivery json: a record with times in both forms and actions as objects") {
  auto doc = parsed(conduit::http::deliveryRecordJson(record()));
  CHECK(std::string(doc["provider"].GetString()) == "github");
  CHECK(std::string(doc["delivery"].GetString()) == "72d3162e");
  CHECK(std::string(doc["entry"].GetString()) == "1796479323123-0");
  CHECK(doc["size"].GetInt64() == 31337);
  CHECK(std::string(doc["accepted_at"].GetString()) == "2026-12-05T14:02:03.123Z");
  CHECK(doc["accepted_at_ms"].GetInt64() == 1796479323123);
  CHECK(std::string(doc["status"].GetString()) == "done");
  CHECK_FALSE(doc.HasMember("next_attempt_at"));  // only while retrying
  CHECK_FALSE(doc.HasMember("payload"));          // only when read
  REQUIRE(doc["issues"].Size() == 2);
  CHECK(std::string(doc["issues"][1].GetString()) == "SOC-2");
  const auto& jira = doc["workers"][0];
  CHECK(std::string(jira["worker"].GetString()) == "jira");
  CHECK(std::string(jira["attempts"][0]["at"].GetString()) == "2026-12-05T14:02:04.000Z");
  CHECK(jira["attempts"][0]["at_ms"].GetInt64() == 1796479324000);
  const auto& actions = jira["actions"];
  REQUIRE(actions.Size() == 3);
  REQUIRE(actions[0].IsObject());
  CHECK(std::string(actions[0]["to"].GetString()) == "In Progress");
  // One the log cannot read stays an object, with its text.
  CHECK(std::string(actions[1]["action"].GetString()) == "unreadable");
  CHECK(std::string(actions[1]["text"].GetString()) == "not json {");
  CHECK(actions[2]["n"].GetInt() == 3);
}

TEST_CASE("delivery json: the next attempt while retrying - unknown times as null - the payload") {
  DeliveryRecord r = record();
  r.status = DeliveryStatus::kRetrying;
  r.next_attempt_ms = 1796479383123;
  r.updated_at_ms = 0;
  r.payload = R"({"action":"closed"})";
  auto doc = parsed(conduit::http::deliveryRecordJson(r));
  CHECK(std::string(doc["next_attempt_at"].GetString()) == "2026-12-05T14:03:03.123Z");
  CHECK(doc["next_attempt_at_ms"].GetInt64() == 1796479383123);
  CHECK(doc["updated_at"].IsNull());
  CHECK(doc["updated_at_ms"].IsNull());
  CHECK(std::string(doc["payload"].GetString()) == R"({"action":"closed"})");
}

TEST_CASE("delivery json: a dead letter") {
  DeadLetter letter;
  letter.id = "1796479400000-0";
  letter.key = {"github", "repo", "d-9"};
  letter.repo_path = "org/repo";
  letter.event = "release";
  letter.entry_id = "1796479323123-0";
  letter.worker = "jira";
  letter.error = "503 from Jira";
  letter.attempts = 8;
  letter.received_at_ms = 1796479323123;
  letter.failed_at_ms = 1796479400000;
  auto doc = parsed(conduit::http::deadLetterJson(letter));
  CHECK(std::string(doc["id"].GetString()) == "1796479400000-0");
  CHECK(std::string(doc["provider"].GetString()) == "github");
  CHECK(std::string(doc["repo_id"].GetString()) == "repo");
  CHECK(std::string(doc["delivery"].GetString()) == "d-9");
  CHECK(std::string(doc["worker"].GetString()) == "jira");
  CHECK(std::string(doc["error"].GetString()) == "503 from Jira");
  CHECK(doc["attempts"].GetInt() == 8);
  CHECK(std::string(doc["received_at"].GetString()) == "2026-12-05T14:02:03.123Z");
  CHECK(doc["failed_at_ms"].GetInt64() == 1796479400000);
}
