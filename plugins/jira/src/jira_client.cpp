#include "jira_client.hpp"

#include <algorithm>
#include <charconv>

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace conduit::jira {
namespace {

// Connecting should be quick; a Jira that does not accept within this is down for us.
constexpr std::chrono::milliseconds kMaxConnectTimeout{5000};

// The member `name` of `value` when `value` is an object that has it; nullptr otherwise.
// RapidJSON asserts (or worse, without assertions) on FindMember of a non-object: whatever a
// proxy or an odd Jira answers must not crash the worker.
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

// Jira's own words from an error body: its errorMessages and errors, joined.
std::string jiraMessages(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return {};
  std::string text;
  auto add = [&](std::string_view part) {
    if (part.empty()) return;
    if (!text.empty()) text += "; ";
    text += part;
  };
  if (const auto* list = member(document, "errorMessages"); list != nullptr && list->IsArray()) {
    for (const auto& message : list->GetArray()) {
      if (message.IsString()) add(message.GetString());
    }
  }
  if (const auto* errors = member(document, "errors"); errors != nullptr && errors->IsObject()) {
    for (const auto& field : errors->GetObject()) {
      if (field.value.IsString()) {
        add(std::string(field.name.GetString()) + ": " + field.value.GetString());
      }
    }
  }
  return text;
}

// Retry-After in seconds (Jira sends seconds; an HTTP date is left to the host's backoff).
std::chrono::milliseconds retryAfter(const httplib::Response& response) {
  const std::string value = response.get_header_value("Retry-After");
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::seconds(std::min<long long>(seconds, 86400));
}

JiraFailure failureOf(const httplib::Result& result, std::string_view what) {
  JiraFailure failure;
  if (!result) {
    failure.kind = JiraFailure::Kind::kRetryLater;
    failure.message =
        std::string(what) + ": Jira could not be reached: " + httplib::to_string(result.error());
    return failure;
  }
  const auto& response = *result;
  failure.status = response.status;
  std::string details = jiraMessages(response.body);
  failure.message = std::string(what) + ": Jira answered " + std::to_string(response.status) +
                    (details.empty() ? "" : " (" + details + ")");
  if (response.status >= 300 && response.status < 400) {
    // A redirect is a configuration mistake (http to https, a moved site): not followed, with
    // credentials, to wherever it points.
    failure.kind = JiraFailure::Kind::kRejected;
    failure.message +=
        " redirecting to " + response.get_header_value("Location") + ": check atlassian_domain_url";
  } else if (response.status == 401 || response.status == 403) {
    failure.kind = JiraFailure::Kind::kCredentials;
  } else if (response.status == 404) {
    failure.kind = JiraFailure::Kind::kNotFound;
  } else if (response.status == 429 || response.status >= 500) {
    failure.kind = JiraFailure::Kind::kRetryLater;
    if (response.status == 429 || response.status == 503)
      failure.retry_after = retryAfter(response);
  } else {
    failure.kind = JiraFailure::Kind::kRejected;
  }
  return failure;
}

std::string toJson(const std::function<void(rapidjson::Writer<rapidjson::StringBuffer>&)>& write) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  write(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

class JiraClient::Lease {
 public:
  explicit Lease(JiraClient& owner) : owner_(owner) {
    {
      std::lock_guard lock(owner_.mutex_);
      if (!owner_.idle_.empty()) {
        client_ = std::move(owner_.idle_.back());
        owner_.idle_.pop_back();
      }
    }
    if (!client_) client_ = owner_.makeClient();
  }
  ~Lease() {
    std::lock_guard lock(owner_.mutex_);
    owner_.idle_.push_back(std::move(client_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  httplib::Client& operator*() { return *client_; }

 private:
  JiraClient& owner_;
  std::unique_ptr<httplib::Client> client_;
};

httplib::Result JiraClient::get(const std::string& path) {
  Lease client(*this);
  return (*client).Get(path.c_str());
}

httplib::Result JiraClient::post(const std::string& path, const std::string& json) {
  Lease client(*this);
  return (*client).Post(path.c_str(), json, "application/json");
}

JiraClient::JiraClient(JiraAddress address, Credentials credentials,
                       std::chrono::milliseconds timeout)
    : address_(std::move(address)), credentials_(std::move(credentials)), timeout_(timeout) {}

JiraClient::~JiraClient() = default;

std::unique_ptr<httplib::Client> JiraClient::makeClient() const {
  auto client = std::make_unique<httplib::Client>(address_.scheme_host_port);
  const auto connect = std::min(timeout_, kMaxConnectTimeout);
  client->set_connection_timeout(std::chrono::duration_cast<std::chrono::microseconds>(connect));
  client->set_read_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout_));
  client->set_write_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout_));
  client->set_keep_alive(true);
  client->enable_server_certificate_verification(true);
  client->set_default_headers({{"Authorization", credentials_.authorization},
                               {"Accept", "application/json"},
                               {"User-Agent", "conduit-jira"}});
  return client;
}

std::variant<IssueState, JiraFailure> JiraClient::issue(const std::string& key) {
  const std::string path =
      address_.base_path + "/rest/api/2/issue/" + key + "?fields=status&expand=transitions";
  httplib::Result result = get(path);
  if (!result || result->status != 200) return failureOf(result, "GET " + key);

  rapidjson::Document document;
  document.Parse(result->body.data(), result->body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return JiraFailure{JiraFailure::Kind::kRetryLater,
                       200,
                       {},
                       "GET " + key + ": Jira's answer is not a JSON object"};
  }
  IssueState state;
  if (const auto* fields = member(document, "fields")) {
    if (const auto* status = member(*fields, "status")) state.status = jsonString(*status, "name");
  }
  if (state.status.empty()) {
    return JiraFailure{JiraFailure::Kind::kRetryLater,
                       200,
                       {},
                       "GET " + key + ": Jira's answer has no fields.status.name"};
  }
  if (const auto* list = member(document, "transitions"); list != nullptr && list->IsArray()) {
    for (const auto& item : list->GetArray()) {
      Transition transition{jsonString(item, "id"), jsonString(item, "name"), {}};
      if (const auto* to = member(item, "to")) transition.to = jsonString(*to, "name");
      if (!transition.id.empty()) state.transitions.push_back(std::move(transition));
    }
  }
  return state;
}

std::optional<JiraFailure> JiraClient::transition(const std::string& key,
                                                  const std::string& transition_id) {
  const std::string path = address_.base_path + "/rest/api/2/issue/" + key + "/transitions";
  const std::string body = toJson([&](auto& w) {
    w.StartObject();
    w.Key("transition");
    w.StartObject();
    w.Key("id");
    w.String(transition_id.c_str());
    w.EndObject();
    w.EndObject();
  });
  httplib::Result result = post(path, body);
  // Jira answers 204; a gateway in front may turn it into another 2xx.
  if (result && result->status >= 200 && result->status < 300) return std::nullopt;
  return failureOf(result, "POST " + key + " transition " + transition_id);
}

std::optional<JiraFailure> JiraClient::comment(const std::string& key, const std::string& text) {
  const std::string path = address_.base_path + "/rest/api/2/issue/" + key + "/comment";
  const std::string body = toJson([&](auto& w) {
    w.StartObject();
    w.Key("body");
    w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
    w.EndObject();
  });
  httplib::Result result = post(path, body);
  if (result && result->status >= 200 && result->status < 300) return std::nullopt;
  return failureOf(result, "POST " + key + " comment");
}

}  // namespace conduit::jira
