// JiraClient's worklog calls, for smart commits' #time.
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "jira_client.hpp"

namespace conduit::jira {
namespace {

const rapidjson::Value* member(const rapidjson::Value& value, const char* name) {
  if (!value.IsObject()) return nullptr;
  auto it = value.FindMember(name);
  return it == value.MemberEnd() ? nullptr : &it->value;
}

std::string jsonString(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* value = member(object, name);
  if (value == nullptr || !value->IsString()) return {};
  return std::string(value->GetString(), value->GetStringLength());
}

}  // namespace

std::optional<JiraFailure> JiraClient::worklog(const std::string& key, int64_t seconds,
                                               const std::string& comment) {
  const std::string path = address_.base_path + "/rest/api/2/issue/" + key + "/worklog";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("timeSpentSeconds");
  w.Int64(seconds);
  w.Key("comment");
  w.String(comment.c_str(), static_cast<rapidjson::SizeType>(comment.size()));
  w.EndObject();
  const std::string body(buffer.GetString(), buffer.GetSize());
  const std::string what = "POST " + key + " worklog";
  std::optional<JiraFailure> failed;
  httplib::Result result = request(
      [&](httplib::Client& client) { return client.Post(path.c_str(), body, "application/json"); },
      &failed, what);
  if (failed) return failed;
  // Jira answers 201; a gateway in front may turn it into another 2xx.
  if (result && result->status >= 200 && result->status < 300) return std::nullopt;
  return failure(result, what);
}

std::variant<std::vector<Worklog>, JiraFailure> JiraClient::worklogs(const std::string& key) {
  // As comments(): pages until `total` (Data Center answers them all in one, whatever is asked).
  constexpr int kPageSize = 100;
  const std::string what = "GET " + key + " worklogs";
  std::vector<Worklog> found;
  while (true) {
    const std::string path = address_.base_path + "/rest/api/2/issue/" + key +
                             "/worklog?startAt=" + std::to_string(found.size()) +
                             "&maxResults=" + std::to_string(kPageSize);
    std::optional<JiraFailure> failed;
    httplib::Result result =
        request([&](httplib::Client& client) { return client.Get(path.c_str()); }, &failed, what);
    if (failed) return *failed;
    if (!result || result->status != 200) return failure(result, what);
    rapidjson::Document document;
    document.Parse(result->body.data(), result->body.size());
    const auto* list = member(document, "worklogs");
    const auto* total = member(document, "total");
    if (document.HasParseError() || list == nullptr || !list->IsArray() || total == nullptr ||
        !total->IsInt64()) {
      return JiraFailure{JiraFailure::Kind::kRetryLater,
                         200,
                         {},
                         what + ": Jira's answer has no worklogs and total",
                         false};
    }
    for (const auto& item : list->GetArray()) {
      Worklog worklog{jsonString(item, "id"), jsonString(item, "comment"), 0};
      if (const auto* seconds = member(item, "timeSpentSeconds");
          seconds != nullptr && seconds->IsInt64()) {
        worklog.seconds = seconds->GetInt64();
      }
      found.push_back(std::move(worklog));
    }
    if (list->Empty() || static_cast<int64_t>(found.size()) >= total->GetInt64()) return found;
  }
}

}  // namespace conduit::jira
