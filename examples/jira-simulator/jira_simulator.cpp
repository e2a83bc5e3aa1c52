#include "jira_simulator.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace conduit::jira_simulator {
namespace {

constexpr const char* kIssuePathPrefix = "/rest/api/2/issue/";
constexpr const char* kNotAuthenticated =
    "You are not authenticated. Authentication required to perform this operation.";
constexpr const char* kNoSuchIssue =
    "Issue does not exist or you do not have permission to see it.";

struct Status {
  const char* id;
  const char* name;
};

// The one workflow every project uses. Transition names differ from status names on purpose,
// as they do in real Jira workflows, so that a client that confuses the two is caught.
constexpr Status kStatuses[] = {{"1", "To Do"}, {"3", "In Progress"}, {"10001", "Done"}};

struct Transition {
  const char* id;
  const char* name;
  const char* from;
  const char* to;
};

constexpr Transition kTransitions[] = {
    {"11", "Start work", "To Do", "In Progress"},
    {"21", "Finish", "In Progress", "Done"},
    {"31", "Stop work", "In Progress", "To Do"},
    {"41", "Reopen", "Done", "To Do"},
};

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void writeString(JsonWriter& writer, const std::string& text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void writeStatus(JsonWriter& writer, const std::string& id, const std::string& name) {
  writer.StartObject();
  writer.Key("id");
  writeString(writer, id);
  writer.Key("name");
  writeString(writer, name);
  writer.EndObject();
}

// Jira's error shape: {"errorMessages":["..."],"errors":{}}.
std::string errorBody(const std::string& message) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("errorMessages");
  writer.StartArray();
  writeString(writer, message);
  writer.EndArray();
  writer.Key("errors");
  writer.StartObject();
  writer.EndObject();
  writer.EndObject();
  return buffer.GetString();
}

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string encoded;
  encoded.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t remaining = bytes.size() - i;
    uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (remaining > 1)
      group |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (remaining > 2) group |= static_cast<unsigned char>(bytes[i + 2]);
    encoded += kAlphabet[(group >> 18) & 0x3f];
    encoded += kAlphabet[(group >> 12) & 0x3f];
    encoded += remaining > 1 ? kAlphabet[(group >> 6) & 0x3f] : '=';
    encoded += remaining > 2 ? kAlphabet[group & 0x3f] : '=';
  }
  return encoded;
}

// Looks at every byte whatever the mismatch, so that the answer time does not tell a client how
// much of a guessed credential was right.
bool equalInConstantTime(const std::string& given, const std::string& expected) {
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const char given_byte = i < given.size() ? given[i] : '\0';
    difference |= static_cast<unsigned char>(given_byte ^ expected[i]);
  }
  return difference == 0;
}

// A comment as the log shows it: its first line, at most 60 bytes, not cut inside a UTF-8
// character.
std::string excerpt(const std::string& text) {
  constexpr size_t kMaxBytes = 60;
  std::string line = text.substr(0, text.find('\n'));
  if (line.size() <= kMaxBytes && line.size() == text.size()) return line;
  size_t end = std::min(line.size(), kMaxBytes);
  while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xc0) == 0x80)
    --end;
  return line.substr(0, end) + "...";
}

// <PROJECT>-<number> of one of `projects`: Jira project keys have no '-', and issue numbers
// start at 1.
bool isProjectKey(const std::string& key, const std::vector<std::string>& projects) {
  const size_t dash = key.find('-');
  if (dash == std::string::npos || dash + 1 >= key.size() || key[dash + 1] == '0') return false;
  const bool numbered = std::all_of(key.begin() + static_cast<std::ptrdiff_t>(dash) + 1, key.end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
  return numbered &&
         std::find(projects.begin(), projects.end(), key.substr(0, dash)) != projects.end();
}

}  // namespace

JiraSimulator::JiraSimulator(SimulatorOptions options)
    : options_(std::move(options)),
      expected_authorization_(options_.pat.empty()
                                  ? "Basic " + base64(options_.email + ":" + options_.api_token)
                                  : "Bearer " + options_.pat) {}

JiraSimulator::~JiraSimulator() {
  stop();
}

void JiraSimulator::start() {
  if (server_) return;  // already serving
  server_ = std::make_unique<httplib::Server>();
  const auto threads = static_cast<size_t>(std::max(1, options_.threads));
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // httplib's default, SO_REUSEPORT, would let a second simulator share a taken port silently
  // instead of failing to bind; SO_REUSEADDR alone still allows an immediate restart.
  server_->set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // One handler for every route and method, so that counting, faults, the delay and the
  // Authorization check come first for unknown routes too. Registered as routes rather than
  // as httplib's pre-routing handler so that a request's body is read before it is answered.
  const httplib::Server::Handler handler = [this](const httplib::Request& request,
                                                  httplib::Response& response) {
    serve(request, response);
  };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Patch(".*", handler);
  server_->Delete(".*", handler);
  server_->Options(".*", handler);

  errno = 0;
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.bind);  // -1 when it cannot
  } else {
    port_ = server_->bind_to_port(options_.bind, options_.port) ? options_.port : -1;
  }
  if (port_ <= 0) {
    const int error = errno;
    server_.reset();
    throw std::runtime_error(
        fmt::format("Jira simulator: cannot listen on {}:{}: {}", options_.bind, options_.port,
                    error != 0 ? std::strerror(error) : "not an address of this machine"));
  }
  // The socket already listens, so connections made before the thread accepts wait in its
  // backlog rather than being refused.
  thread_ = std::thread([server = server_.get()] { server->listen_after_bind(); });
  // httplib's stop() does nothing before its accept loop has begun, which would leave a stop()
  // right after start() waiting for ever on the thread.
  while (!server_->is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void JiraSimulator::stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

std::string JiraSimulator::url() const {
  // An IPv6 address needs brackets in a URL.
  const bool ipv6 = options_.bind.find(':') != std::string::npos;
  return fmt::format(ipv6 ? "http://[{}]:{}" : "http://{}:{}", options_.bind, port_);
}

std::string JiraSimulator::status(const std::string& key) const {
  std::lock_guard lock(mutex_);
  if (!isProjectKey(key, options_.projects) || removed_.count(key) > 0) return "";
  auto issue = issues_.find(key);
  return issue == issues_.end() ? "To Do" : issue->second.status;
}

void JiraSimulator::setStatus(const std::string& key, const std::string& status) {
  std::lock_guard lock(mutex_);
  if (!isProjectKey(key, options_.projects)) {
    throw std::invalid_argument("Jira simulator: " + key +
                                " is not an issue key of a configured project");
  }
  removed_.erase(key);
  findIssue(key)->status = status;
}

void JiraSimulator::removeIssue(const std::string& key) {
  std::lock_guard lock(mutex_);
  issues_.erase(key);
  removed_.insert(key);
}

int JiraSimulator::transitionsApplied(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto issue = issues_.find(key);
  return issue == issues_.end() ? 0 : issue->second.transitions_applied;
}

int JiraSimulator::totalTransitionsApplied() const {
  std::lock_guard lock(mutex_);
  return total_transitions_applied_;
}

std::vector<std::string> JiraSimulator::comments(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto issue = issues_.find(key);
  return issue == issues_.end() ? std::vector<std::string>() : issue->second.comments;
}

int JiraSimulator::requestCount() const {
  std::lock_guard lock(mutex_);
  return request_count_;
}

void JiraSimulator::failNext(const std::string& method, const std::string& path_prefix, int status,
                             int times, int retry_after_seconds) {
  if (times <= 0) return;
  std::lock_guard lock(mutex_);
  faults_.push_back({method, path_prefix, status, times, retry_after_seconds});
}

void JiraSimulator::serve(const httplib::Request& request, httplib::Response& response) {
  Answer answer = this->answer(request);
  response.status = answer.status;
  if (!answer.body.empty()) response.set_content(answer.body, "application/json");
  if (answer.retry_after_seconds > 0) {
    response.set_header("Retry-After", std::to_string(answer.retry_after_seconds));
  }
  if (options_.log && !answer.event.empty()) {
    // Called outside the lock, so that a slow log does not hold up the other requests.
    options_.log(answer.status >= 400 ? fmt::format("{} {}: {} {}", request.method, request.path,
                                                    answer.status, answer.event)
                                      : answer.event);
  }
}

JiraSimulator::Answer JiraSimulator::answer(const httplib::Request& request) {
  std::optional<Fault> fault;
  {
    std::lock_guard lock(mutex_);
    ++request_count_;
    auto match = std::find_if(faults_.begin(), faults_.end(), [&](const Fault& candidate) {
      return candidate.method == request.method &&
             request.path.compare(0, candidate.path_prefix.size(), candidate.path_prefix) == 0;
    });
    if (match != faults_.end()) {
      fault = *match;
      if (--match->remaining == 0) faults_.erase(match);
    }
  }
  if (options_.delay.count() > 0) std::this_thread::sleep_for(options_.delay);

  if (fault) {
    const std::string message = fmt::format("Simulated failure (HTTP {}).", fault->status);
    return {fault->status, errorBody(message), message, fault->retry_after_seconds};
  }
  if (!authorized(request)) return {401, errorBody(kNotAuthenticated), kNotAuthenticated};

  // /rest/api/2/issue/{key}, /rest/api/2/issue/{key}/transitions, /rest/api/2/issue/{key}/comment
  const std::string& path = request.path;
  const size_t prefix_length = std::strlen(kIssuePathPrefix);
  if (path.compare(0, prefix_length, kIssuePathPrefix) == 0) {
    const std::string rest = path.substr(prefix_length);
    const size_t slash = rest.find('/');
    const std::string key = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash);
    if (!key.empty()) {
      if (request.method == "GET" && action.empty()) return getIssue(key);
      if (request.method == "POST" && action == "/transitions") {
        return postTransition(key, request.body);
      }
      if (request.method == "POST" && action == "/comment") return postComment(key, request.body);
    }
  }
  const std::string message =
      fmt::format("The Jira simulator has no route for {} {}.", request.method, path);
  return {404, errorBody(message), message};
}

bool JiraSimulator::authorized(const httplib::Request& request) const {
  return equalInConstantTime(request.get_header_value("Authorization"), expected_authorization_);
}

JiraSimulator::Answer JiraSimulator::getIssue(const std::string& key) {
  std::lock_guard lock(mutex_);
  Issue* issue = findIssue(key);
  if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("id");
  writeString(writer, issue->id);
  writer.Key("key");
  writeString(writer, key);
  writer.Key("fields");
  writer.StartObject();
  writer.Key("status");
  writeStatus(writer, statusId(issue->status), issue->status);
  writer.EndObject();
  writer.Key("transitions");
  writer.StartArray();
  for (const auto& transition : kTransitions) {
    if (issue->status != transition.from) continue;
    writer.StartObject();
    writer.Key("id");
    writer.String(transition.id);
    writer.Key("name");
    writer.String(transition.name);
    writer.Key("to");
    writeStatus(writer, statusId(transition.to), transition.to);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return {200, buffer.GetString(), ""};
}

JiraSimulator::Answer JiraSimulator::postTransition(const std::string& key,
                                                    const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  std::string problem;
  if (document.HasParseError()) {
    problem = "The request body is not valid JSON.";
  } else if (!document.IsObject() || !document.HasMember("transition") ||
             !document["transition"].IsObject()) {
    problem = R"(The request body needs a "transition" object, as in {"transition":{"id":"11"}}.)";
  } else if (!document["transition"].HasMember("id") || !document["transition"]["id"].IsString()) {
    problem = R"(The "transition" object needs an "id" string, as in {"transition":{"id":"11"}}.)";
  }
  if (!problem.empty()) return {400, errorBody(problem), problem};
  const std::string transition_id = document["transition"]["id"].GetString();

  std::string from;
  const Transition* applied = nullptr;
  {
    std::lock_guard lock(mutex_);
    Issue* issue = findIssue(key);
    if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};
    auto transition = std::find_if(
        std::begin(kTransitions), std::end(kTransitions), [&](const Transition& candidate) {
          return issue->status == candidate.from && transition_id == candidate.id;
        });
    if (transition == std::end(kTransitions)) {
      const std::string message =
          fmt::format("Transition id '{}' is not valid for this issue.", transition_id);
      return {400, errorBody(message), message};
    }
    applied = transition;
    from = issue->status;
    issue->status = applied->to;
    ++issue->transitions_applied;
    ++total_transitions_applied_;
  }
  return {204, "", fmt::format("{}: {} -> {} ({})", key, from, applied->to, applied->name)};
}

JiraSimulator::Answer JiraSimulator::postComment(const std::string& key, const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("body") ||
      !document["body"].IsString() || document["body"].GetStringLength() == 0) {
    const std::string message =
        R"(The request body needs a non-empty "body" string, as in {"body":"text"}.)";
    return {400, errorBody(message), message};
  }
  const std::string text(document["body"].GetString(), document["body"].GetStringLength());

  std::string comment_id;
  {
    std::lock_guard lock(mutex_);
    Issue* issue = findIssue(key);
    if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};
    issue->comments.push_back(text);
    comment_id = std::to_string(next_comment_id_++);
  }
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("id");
  writeString(writer, comment_id);
  writer.Key("body");
  writeString(writer, text);
  writer.EndObject();
  return {201, buffer.GetString(), fmt::format("{}: comment \"{}\"", key, excerpt(text))};
}

JiraSimulator::Issue* JiraSimulator::findIssue(const std::string& key) {
  if (!isProjectKey(key, options_.projects) || removed_.count(key) > 0) return nullptr;
  auto [issue, created] = issues_.try_emplace(key);
  if (created) issue->second.id = std::to_string(next_issue_id_++);
  return &issue->second;
}

std::string JiraSimulator::statusId(const std::string& status) {
  for (const auto& known : kStatuses) {
    if (status == known.name) return known.id;
  }
  // Statuses set with setStatus outside the workflow get ids of their own, stable for the
  // simulator's life, as every Jira status has one.
  auto [id, created] = custom_status_ids_.try_emplace(status);
  if (created) id->second = std::to_string(20000 + custom_status_ids_.size());
  return id->second;
}

}  // namespace conduit::jira_simulator
