#include "jira_simulator.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
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
constexpr const char* kApiPathPrefix = "/rest/";
// Jira's own default and ceiling for a page of comments.
constexpr int kMaxCommentsPerPage = 5000;
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

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// A query parameter that must be a number in [0, max] when present.
std::optional<int> queryNumber(const httplib::Request& request, const char* name, int fallback,
                               int max) {
  if (!request.has_param(name)) return fallback;
  const std::string text = request.get_param_value(name);
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return std::min(value, max);
}

// The port and address of a socket's end, in the shape httplib gives a request's.
bool socketEnd(int fd, bool peer, std::string& address, int& port) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  auto* generic = reinterpret_cast<sockaddr*>(&storage);
  if ((peer ? getpeername(fd, generic, &length) : getsockname(fd, generic, &length)) != 0) {
    return false;
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &ipv4->sin_addr, text, sizeof(text));
    port = ntohs(ipv4->sin_port);
  } else if (storage.ss_family == AF_INET6) {
    const auto* ipv6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &ipv6->sin6_addr, text, sizeof(text));
    port = ntohs(ipv6->sin6_port);
  } else {
    return false;
  }
  address = text;
  return true;
}

const char* faultKindName(int status) {
  return status == 429 ? "rate_limited" : status >= 500 ? "server_error" : "refused";
}

}  // namespace

JiraSimulator::JiraSimulator(SimulatorOptions options)
    : options_(std::move(options)),
      expected_authorization_(options_.pat.empty()
                                  ? "Basic " + base64(options_.email + ":" + options_.api_token)
                                  : "Bearer " + options_.pat),
      fault_random_(options_.fault_seed) {}

JiraSimulator::~JiraSimulator() {
  stop();
}

void JiraSimulator::start() {
  if (server_) return;  // already serving
  {
    std::lock_guard lock(hang_mutex_);
    stopping_ = false;
  }
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
  {
    std::lock_guard lock(hang_mutex_);
    stopping_ = true;
  }
  hang_done_.notify_all();
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

std::vector<std::string> JiraSimulator::transitionHistory(const std::string& key) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  auto issue = issues_.find(key);
  if (issue == issues_.end()) return names;
  for (const auto& [name, to] : issue->second.history)
    names.push_back(name);
  return names;
}

std::vector<std::string> JiraSimulator::comments(const std::string& key) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> bodies;
  auto issue = issues_.find(key);
  if (issue == issues_.end()) return bodies;
  for (const auto& comment : issue->second.comments)
    bodies.push_back(comment.body);
  return bodies;
}

int JiraSimulator::worklogCount(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto issue = issues_.find(key);
  return issue == issues_.end() ? 0 : issue->second.worklogs;
}

int JiraSimulator::requestCount() const {
  std::lock_guard lock(mutex_);
  return request_count_;
}

JiraSimulator::FaultCounts JiraSimulator::faultCounts() const {
  std::lock_guard lock(mutex_);
  return fault_counts_;
}

void JiraSimulator::reset() {
  std::lock_guard lock(mutex_);
  issues_.clear();
  removed_.clear();
  faults_.clear();
  custom_status_ids_.clear();
  request_count_ = 0;
  api_request_count_ = 0;
  total_transitions_applied_ = 0;
  fault_counts_ = FaultCounts();
  fault_random_.seed(options_.fault_seed);
  next_random_fault_ = 0;
}

void JiraSimulator::failNext(const std::string& method, const std::string& path_prefix, int status,
                             int times, int retry_after_seconds) {
  if (times <= 0) return;
  Fault fault;
  fault.kind = FaultKind::kStatus;
  fault.method = method;
  fault.path_prefix = path_prefix;
  fault.status = status;
  fault.remaining = times;
  fault.retry_after_seconds = retry_after_seconds;
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(fault));
}

void JiraSimulator::hangNext(const std::string& method, const std::string& path_prefix,
                             std::chrono::milliseconds hang, int times) {
  if (times <= 0) return;
  Fault fault;
  fault.kind = FaultKind::kHang;
  fault.method = method;
  fault.path_prefix = path_prefix;
  fault.remaining = times;
  fault.hang = hang;
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(fault));
}

void JiraSimulator::dropAnswerNext(const std::string& method, const std::string& path_prefix,
                                   int times) {
  if (times <= 0) return;
  Fault fault;
  fault.kind = FaultKind::kDrop;
  fault.method = method;
  fault.path_prefix = path_prefix;
  fault.remaining = times;
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(fault));
}

void JiraSimulator::serve(const httplib::Request& request, httplib::Response& response) {
  Answer answer = this->answer(request);
  response.status = answer.status;
  if (!answer.body.empty()) response.set_content(answer.body, "application/json");
  if (answer.retry_after_seconds > 0) {
    response.set_header("Retry-After", std::to_string(answer.retry_after_seconds));
  }
  if (options_.log) {
    // Called outside the lock, so that a slow log does not hold up the other requests; before
    // a connection is dropped, so that a client that sees it closed finds the line written.
    if (!answer.event.empty()) {
      options_.log(answer.status >= 400 && answer.fault.empty()
                       ? fmt::format("{} {}: {} {}", request.method, request.path, answer.status,
                                     answer.event)
                       : answer.event);
    }
    if (!answer.fault.empty()) options_.log(answer.fault);
  }
  if (answer.drop) {
    response.set_header("Connection", "close");
    // Not expected: httplib holds the connection's socket while the handler runs. Answer
    // rather than pretend the answer was lost.
    if (!dropConnection(request) && options_.log) {
      options_.log("fault: could not close the connection of " + request.method + " " +
                   request.path + ": answered instead");
    }
  }
}

std::optional<JiraSimulator::Fault> JiraSimulator::takeFault(const httplib::Request& request) {
  auto match = std::find_if(faults_.begin(), faults_.end(), [&](const Fault& candidate) {
    return candidate.method == request.method && startsWith(request.path, candidate.path_prefix);
  });
  if (match != faults_.end()) {
    Fault fault = *match;
    if (--match->remaining == 0) faults_.erase(match);
    return fault;
  }
  if (options_.fault_rate <= 0 || !startsWith(request.path, kApiPathPrefix)) return std::nullopt;
  // 53 random bits as a number in [0, 1): the same on every platform, unlike the standard
  // distributions, so that a seed replays the same faults anywhere.
  const double draw = static_cast<double>(fault_random_() >> 11) * 0x1.0p-53;
  if (draw >= options_.fault_rate) return std::nullopt;
  Fault fault;
  switch (next_random_fault_++ % 4) {
    case 0:
      fault.status = 429;
      fault.retry_after_seconds = 1;
      break;
    case 1:
      fault.status = 500;
      break;
    case 2:
      fault.kind = FaultKind::kHang;
      fault.hang = options_.fault_hang;
      break;
    default:
      fault.kind = FaultKind::kDrop;
      break;
  }
  return fault;
}

JiraSimulator::Answer JiraSimulator::answer(const httplib::Request& request) {
  std::optional<Fault> fault;
  {
    std::lock_guard lock(mutex_);
    ++request_count_;
    if (startsWith(request.path, kApiPathPrefix)) ++api_request_count_;
    fault = takeFault(request);
    if (fault) {
      switch (fault->kind) {
        case FaultKind::kStatus:
          if (fault->status == 429) ++fault_counts_.rate_limited;
          if (fault->status >= 500) ++fault_counts_.server_error;
          break;
        case FaultKind::kHang:
          ++fault_counts_.timeout;
          break;
        case FaultKind::kDrop:
          ++fault_counts_.dropped;
          break;
      }
    }
  }
  if (options_.delay.count() > 0) std::this_thread::sleep_for(options_.delay);
  if (!fault) return route(request);

  const std::string where = fmt::format("{} {}", request.method, request.path);
  switch (fault->kind) {
    case FaultKind::kStatus: {
      const std::string message = fmt::format("Simulated failure (HTTP {}).", fault->status);
      // The fault's own line says it all: no second line for the refusal.
      Answer answer{fault->status, errorBody(message), "", fault->retry_after_seconds};
      answer.fault = fmt::format("fault: {} {}", faultKindName(fault->status), where);
      return answer;
    }
    case FaultKind::kHang: {
      {
        std::unique_lock lock(hang_mutex_);
        hang_done_.wait_for(lock, fault->hang, [this] { return stopping_; });
      }
      const std::string message = "Simulated failure (HTTP 500 after a hang).";
      Answer answer{500, errorBody(message), ""};
      answer.fault = "fault: timeout " + where;
      return answer;
    }
    case FaultKind::kDrop:
      break;
  }
  Answer answer = route(request);
  answer.drop = true;
  answer.fault = "fault: dropped " + where;
  return answer;
}

JiraSimulator::Answer JiraSimulator::route(const httplib::Request& request) {
  if (!authorized(request)) return {401, errorBody(kNotAuthenticated), kNotAuthenticated};

  // /rest/api/2/issue/{key}, and /transitions, /comment and /worklog under it.
  const std::string& path = request.path;
  if (startsWith(path, kIssuePathPrefix)) {
    const std::string rest = path.substr(std::strlen(kIssuePathPrefix));
    const size_t slash = rest.find('/');
    const std::string key = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash);
    if (!key.empty()) {
      if (request.method == "GET" && action.empty()) return getIssue(key);
      if (request.method == "GET" && action == "/comment") return getComments(key, request);
      if (request.method == "POST" && action == "/transitions") {
        return postTransition(key, request.body);
      }
      if (request.method == "POST" && action == "/comment") return postComment(key, request.body);
      if (request.method == "POST" && action == "/worklog") return postWorklog(key, request.body);
    }
  }
  if (request.method == "GET" && path == "/simulator/issues") return simulatorIssues();
  if (request.method == "POST" && path == "/simulator/reset") {
    reset();
    return {204, "", "reset: every issue, comment, count and fault forgotten"};
  }
  const std::string message =
      fmt::format("The Jira simulator has no route for {} {}.", request.method, path);
  return {404, errorBody(message), message};
}

bool JiraSimulator::dropConnection(const httplib::Request& request) const {
  // httplib does not hand a handler its socket, so find it: the one socket of this process
  // whose own end is the request's local address and whose peer is the request's remote one.
  // Then put /dev/null in its place under the same number (dup2 is atomic): the socket is closed,
  // so the client sees the connection end without a byte, and what httplib writes afterwards
  // goes nowhere, without a SIGPIPE, and its next read ends the connection.
  DIR* fds = opendir("/proc/self/fd");
  if (!fds) return false;
  int found = -1;
  while (dirent* entry = readdir(fds)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(fds)) continue;
    std::string local_address, peer_address;
    int local_port = 0, peer_port = 0;
    if (socketEnd(static_cast<int>(fd), false, local_address, local_port) &&
        local_port == request.local_port &&
        socketEnd(static_cast<int>(fd), true, peer_address, peer_port) &&
        peer_port == request.remote_port && peer_address == request.remote_addr) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(fds);
  if (found < 0) return false;
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return false;
  shutdown(found, SHUT_RDWR);
  const bool replaced = dup2(null_fd, found) == found;
  close(null_fd);
  return replaced;
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
    issue->history.emplace_back(applied->name, applied->to);
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
    comment_id = std::to_string(next_comment_id_++);
    issue->comments.push_back({comment_id, text});
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

JiraSimulator::Answer JiraSimulator::getComments(const std::string& key,
                                                 const httplib::Request& request) {
  const auto start_at = queryNumber(request, "startAt", 0, std::numeric_limits<int>::max());
  const auto max_results =
      queryNumber(request, "maxResults", kMaxCommentsPerPage, kMaxCommentsPerPage);
  if (!start_at || !max_results) {
    const std::string message = "startAt and maxResults must be numbers of 0 or more.";
    return {400, errorBody(message), message};
  }
  std::lock_guard lock(mutex_);
  Issue* issue = findIssue(key);
  if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};

  const auto total = static_cast<int>(issue->comments.size());
  const int first = std::min(*start_at, total);
  const int last = std::min(total, first + *max_results);
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("startAt");
  writer.Int(*start_at);
  writer.Key("maxResults");
  writer.Int(*max_results);
  writer.Key("total");
  writer.Int(total);
  writer.Key("comments");
  writer.StartArray();
  for (int i = first; i < last; ++i) {
    const Comment& comment = issue->comments[static_cast<size_t>(i)];
    writer.StartObject();
    writer.Key("id");
    writeString(writer, comment.id);
    writer.Key("body");
    writeString(writer, comment.body);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return {200, buffer.GetString(), ""};
}

JiraSimulator::Answer JiraSimulator::postWorklog(const std::string& key, const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  const bool seconds =
      !document.HasParseError() && document.IsObject() && document.HasMember("timeSpentSeconds") &&
      document["timeSpentSeconds"].IsInt() && document["timeSpentSeconds"].GetInt() > 0;
  const bool text = !document.HasParseError() && document.IsObject() &&
                    document.HasMember("timeSpent") && document["timeSpent"].IsString() &&
                    document["timeSpent"].GetStringLength() > 0;
  if (!seconds && !text) {
    const std::string message =
        R"(The request body needs "timeSpentSeconds" (a positive number) or "timeSpent" )"
        R"((as in "1h 30m").)";
    return {400, errorBody(message), message};
  }
  std::string worklog_id;
  {
    std::lock_guard lock(mutex_);
    Issue* issue = findIssue(key);
    if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};
    ++issue->worklogs;
    worklog_id = std::to_string(next_comment_id_++);
  }
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("id");
  writeString(writer, worklog_id);
  writer.EndObject();
  return {201, buffer.GetString(), fmt::format("{}: worklog {}", key, worklog_id)};
}

JiraSimulator::Answer JiraSimulator::simulatorIssues() {
  std::lock_guard lock(mutex_);
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("issues");
  writer.StartArray();
  for (const auto& [key, issue] : issues_) {
    writer.StartObject();
    writer.Key("key");
    writeString(writer, key);
    writer.Key("status");
    writeString(writer, issue.status);
    writer.Key("transitions");
    writer.StartArray();
    for (const auto& [name, to] : issue.history) {
      writer.StartObject();
      writer.Key("name");
      writeString(writer, name);
      writer.Key("to");
      writeString(writer, to);
      writer.EndObject();
    }
    writer.EndArray();
    writer.Key("comments");
    writer.StartArray();
    for (const auto& comment : issue.comments)
      writeString(writer, comment.body);
    writer.EndArray();
    writer.Key("worklogs");
    writer.Int(issue.worklogs);
    writer.EndObject();
  }
  writer.EndArray();
  writer.Key("faults");
  writer.StartObject();
  writer.Key("rate_limited");
  writer.Int(fault_counts_.rate_limited);
  writer.Key("server_error");
  writer.Int(fault_counts_.server_error);
  writer.Key("timeout");
  writer.Int(fault_counts_.timeout);
  writer.Key("dropped");
  writer.Int(fault_counts_.dropped);
  writer.EndObject();
  writer.Key("requests");
  writer.Int(api_request_count_);
  writer.EndObject();
  return {200, buffer.GetString(), ""};
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
