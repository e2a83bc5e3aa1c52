#include "jira_client.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <functional>

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "jira_client_detail.hpp"

namespace conduit::jira {
// Shared with the other jira_client_*.cpp files (jira_client_detail.hpp).
namespace detail {

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

// `site_wait`: what is left of the site's Retry-After, which a retry should wait at least.
JiraFailure failureOf(const httplib::Result& result, std::string_view what,
                      std::chrono::milliseconds site_wait) {
  JiraFailure failure;
  if (!result) {
    failure.kind = JiraFailure::Kind::kRetryLater;
    failure.ambiguous = true;  // the request may have been sent, and applied
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
    // A 500 or a gateway's 502 or 504 may come after the change was made.
    failure.ambiguous = response.status != 429 && response.status != 503;
    failure.retry_after = std::max(retryAfter(response), site_wait);
  } else {
    failure.kind = JiraFailure::Kind::kRejected;
  }
  return failure;
}

// 2.5, 10: a rate as people write it.
std::string perSecond(double rate) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", rate);
  return text;
}

std::string toJson(const std::function<void(rapidjson::Writer<rapidjson::StringBuffer>&)>& write) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  write(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace detail

using namespace detail;

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

// One thread that shuts down the connection of a request still running at its deadline
// (httplib's stop() is the one call it allows from another thread), so that no request lasts
// longer than the deadline whatever the server does.
class JiraClient::DeadlineWatch {
  struct Entry {
    httplib::Client* client;
    bool expired;
  };
  using Entries = std::multimap<std::chrono::steady_clock::time_point, Entry>;

 public:
  DeadlineWatch() : thread_([this] { run(); }) {}
  ~DeadlineWatch() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  DeadlineWatch(const DeadlineWatch&) = delete;
  DeadlineWatch& operator=(const DeadlineWatch&) = delete;

  // Watches `client` until the ticket ends; expired() tells whether the deadline cut it.
  class Ticket {
   public:
    Ticket(DeadlineWatch& watch, httplib::Client& client,
           std::chrono::steady_clock::time_point deadline)
        : watch_(watch) {
      std::lock_guard lock(watch_.mutex_);
      entry_ = watch_.entries_.emplace(deadline, Entry{&client, false});
      watch_.wake_.notify_one();
    }
    ~Ticket() {
      std::lock_guard lock(watch_.mutex_);
      watch_.entries_.erase(entry_);
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

    bool expired() const {
      std::lock_guard lock(watch_.mutex_);
      return entry_->second.expired;
    }

   private:
    DeadlineWatch& watch_;
    Entries::iterator entry_;
  };

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      const auto now = std::chrono::steady_clock::now();
      for (auto& [deadline, entry] : entries_) {
        if (deadline > now) break;
        if (!entry.expired) {
          entry.expired = true;
          // Under the lock: the ticket, and so the client, outlives this call.
          entry.client->stop();
        }
      }
      auto next = std::find_if(entries_.begin(), entries_.end(),
                               [](const auto& item) { return !item.second.expired; });
      if (next == entries_.end()) {
        wake_.wait(lock);
      } else {
        // A copy: the entry may be erased while the lock is let go during the wait.
        const auto until = next->first;
        wake_.wait_until(lock, until);
      }
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Entries entries_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

JiraClient::JiraClient(JiraAddress address, Credentials credentials,
                       std::chrono::milliseconds timeout,
                       std::chrono::milliseconds max_in_process_wait,
                       double max_requests_per_second)
    : address_(std::move(address)),
      credentials_(std::move(credentials)),
      timeout_(timeout),
      max_in_process_wait_(max_in_process_wait),
      watch_(std::make_unique<DeadlineWatch>()),
      site_(SiteThrottle::of(address_.scheme_host_port + address_.base_path,
                             max_requests_per_second)) {}

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

std::chrono::milliseconds JiraClient::siteWait() const {
  return site_->wait();
}

void JiraClient::holdSite(std::chrono::milliseconds wait) {
  site_->hold(wait);
}

httplib::Result JiraClient::request(const std::function<httplib::Result(httplib::Client&)>& send,
                                    std::optional<JiraFailure>* failure, const std::string& what) {
  if (const auto wait = siteWait(); wait.count() > 0) {
    if (wait > max_in_process_wait_) {
      JiraFailure waiting;
      waiting.kind = JiraFailure::Kind::kRetryLater;
      waiting.retry_after = wait;
      waiting.message = what + ": not sent: Jira asked (Retry-After) to wait " +
                        std::to_string(wait.count()) + " ms more";
      *failure = std::move(waiting);
      return httplib::Result(nullptr, httplib::Error::Canceled);
    }
    std::this_thread::sleep_for(wait);
  }
  // The deadline covers the wait for a token too: the caller's lease lasts one deadline.
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + timeout_;
  const auto token = site_->reserve(started, started + timeout_ / 2);
  if (!token.granted) {
    JiraFailure waiting;
    waiting.kind = JiraFailure::Kind::kRetryLater;
    waiting.retry_after = std::chrono::ceil<std::chrono::milliseconds>(token.at - started);
    waiting.message = what + ": not sent: atlassian_max_requests_per_second (" +
                      perSecond(site_->maxRequestsPerSecond()) + ") has no token for it for " +
                      std::to_string(waiting.retry_after.count()) + " ms";
    *failure = std::move(waiting);
    return httplib::Result(nullptr, httplib::Error::Canceled);
  }
  std::this_thread::sleep_until(token.at);
  httplib::Result result(nullptr, httplib::Error::Unknown);
  bool expired = false;
  {
    Lease client(*this);
    DeadlineWatch::Ticket ticket(*watch_, *client, deadline);
    result = send(*client);
    // httplib's own read timeout, as long as the deadline, may end it first.
    expired = ticket.expired() || std::chrono::steady_clock::now() >= deadline;
  }
  if (expired && !result) {
    JiraFailure timed_out;
    timed_out.kind = JiraFailure::Kind::kRetryLater;
    timed_out.ambiguous = true;
    timed_out.message = what + ": Jira did not answer within " + std::to_string(timeout_.count()) +
                        " ms (atlassian_timeout_ms)";
    *failure = std::move(timed_out);
    return result;
  }
  if (result && (result->status == 429 || result->status == 503)) {
    // Every caller waits for it from now on, this one too when it asks again.
    if (const auto wait = retryAfter(*result); wait.count() > 0) holdSite(wait);
  }
  return result;
}
JiraFailure JiraClient::failure(const httplib::Result& result, const std::string& what) const {
  return failureOf(result, what, siteWait());
}

std::variant<IssueState, JiraFailure> JiraClient::issue(const std::string& key) {
  const std::string path =
      address_.base_path + "/rest/api/2/issue/" + key + "?fields=status&expand=transitions";
  std::optional<JiraFailure> failure;
  httplib::Result result = request(
      [&](httplib::Client& client) { return client.Get(path.c_str()); }, &failure, "GET " + key);
  if (failure) return *failure;
  if (!result || result->status != 200) return failureOf(result, "GET " + key, siteWait());

  rapidjson::Document document;
  document.Parse(result->body.data(), result->body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return JiraFailure{JiraFailure::Kind::kRetryLater,
                       200,
                       {},
                       "GET " + key + ": Jira's answer is not a JSON object",
                       false};
  }
  IssueState state;
  if (const auto* fields = member(document, "fields")) {
    if (const auto* status = member(*fields, "status")) state.status = jsonString(*status, "name");
  }
  if (state.status.empty()) {
    return JiraFailure{JiraFailure::Kind::kRetryLater,
                       200,
                       {},
                       "GET " + key + ": Jira's answer has no fields.status.name",
                       false};
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
  const std::string what = "POST " + key + " transition " + transition_id;
  std::optional<JiraFailure> failure;
  httplib::Result result = request(
      [&](httplib::Client& client) { return client.Post(path.c_str(), body, "application/json"); },
      &failure, what);
  if (failure) return failure;
  // Jira answers 204; a gateway in front may turn it into another 2xx.
  if (result && result->status >= 200 && result->status < 300) return std::nullopt;
  return failureOf(result, what, siteWait());
}

std::optional<JiraFailure> JiraClient::comment(const std::string& key, const std::string& text) {
  const std::string path = address_.base_path + "/rest/api/2/issue/" + key + "/comment";
  const std::string body = toJson([&](auto& w) {
    w.StartObject();
    w.Key("body");
    w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
    w.EndObject();
  });
  const std::string what = "POST " + key + " comment";
  std::optional<JiraFailure> failure;
  httplib::Result result = request(
      [&](httplib::Client& client) { return client.Post(path.c_str(), body, "application/json"); },
      &failure, what);
  if (failure) return failure;
  if (result && result->status >= 200 && result->status < 300) return std::nullopt;
  return failureOf(result, what, siteWait());
}

std::variant<std::vector<Comment>, JiraFailure> JiraClient::comments(const std::string& key) {
  // Jira caps a page (at 5000 on Cloud, less on some Data Center versions): ask for pages of
  // this many until `total` is reached.
  constexpr int kPageSize = 100;
  const std::string what = "GET " + key + " comments";
  std::vector<Comment> found;
  while (true) {
    const std::string path = address_.base_path + "/rest/api/2/issue/" + key +
                             "/comment?startAt=" + std::to_string(found.size()) +
                             "&maxResults=" + std::to_string(kPageSize);
    std::optional<JiraFailure> failure;
    httplib::Result result =
        request([&](httplib::Client& client) { return client.Get(path.c_str()); }, &failure, what);
    if (failure) return *failure;
    if (!result || result->status != 200) return failureOf(result, what, siteWait());
    rapidjson::Document document;
    document.Parse(result->body.data(), result->body.size());
    const auto* list = member(document, "comments");
    const auto* total = member(document, "total");
    if (document.HasParseError() || list == nullptr || !list->IsArray() || total == nullptr ||
        !total->IsInt64()) {
      return JiraFailure{JiraFailure::Kind::kRetryLater,
                         200,
                         {},
                         what + ": Jira's answer has no comments and total",
                         false};
    }
    for (const auto& item : list->GetArray())
      found.push_back({jsonString(item, "id"), jsonString(item, "body")});
    // An empty page before `total` (comments deleted meanwhile) ends it too.
    if (list->Empty() || static_cast<int64_t>(found.size()) >= total->GetInt64()) return found;
  }
}

}  // namespace conduit::jira
