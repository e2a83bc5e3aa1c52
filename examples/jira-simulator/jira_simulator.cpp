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
#include <ctime>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
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

template <typename Writer>
void writeString(Writer& writer, const std::string& text) {
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

// Jira's shape for an error about fields: {"errorMessages":[],"errors":{"<field>":"..."}}.
std::string fieldErrorBody(const std::string& field, const std::string& message) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("errorMessages");
  writer.StartArray();
  writer.EndArray();
  writer.Key("errors");
  writer.StartObject();
  writeString(writer, field);
  writeString(writer, message);
  writer.EndObject();
  writer.EndObject();
  return buffer.GetString();
}

std::string toLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return text;
}

// Jira's time tracking defaults: a week of 5 days, a day of 8 hours.
constexpr int kSecondsPerMinute = 60;
constexpr int kSecondsPerHour = 60 * kSecondsPerMinute;
constexpr int kSecondsPerDay = 8 * kSecondsPerHour;
constexpr int kSecondsPerWeek = 5 * kSecondsPerDay;

// "1w 2d 3h 30m" as Jira writes a duration, down to the minute ("0m" under a minute).
std::string formatDuration(int seconds) {
  std::string text;
  const std::pair<int, char> units[] = {{kSecondsPerWeek, 'w'},
                                        {kSecondsPerDay, 'd'},
                                        {kSecondsPerHour, 'h'},
                                        {kSecondsPerMinute, 'm'}};
  for (const auto& [unit_seconds, unit] : units) {
    if (seconds < unit_seconds) continue;
    if (!text.empty()) text += ' ';
    text += std::to_string(seconds / unit_seconds) + unit;
    seconds %= unit_seconds;
  }
  return text.empty() ? "0m" : text;
}

// "1w 2d 4h 30m" or "1.5h" (units w, d, h, m; a number alone is minutes) in seconds; nullopt
// for anything else or a total of 0.
std::optional<int> parseDuration(const std::string& text) {
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
      ++i;
    if (i == start) return std::nullopt;
    char* end = nullptr;
    const std::string number = text.substr(start, i - start);
    const double value = std::strtod(number.c_str(), &end);
    if (*end != '\0') return std::nullopt;
    int unit_seconds = kSecondsPerMinute;
    if (i < text.size() && text[i] != ' ') {
      switch (text[i]) {
        case 'w':
          unit_seconds = kSecondsPerWeek;
          break;
        case 'd':
          unit_seconds = kSecondsPerDay;
          break;
        case 'h':
          unit_seconds = kSecondsPerHour;
          break;
        case 'm':
          unit_seconds = kSecondsPerMinute;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    }
    total += value * unit_seconds;
    any = true;
  }
  if (!any || total < 1 || total > std::numeric_limits<int>::max()) return std::nullopt;
  return static_cast<int>(total);
}

// Now as Jira writes a timestamp: 2026-12-05T17:00:00.000+0000.
std::string jiraTimestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32] = {};
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S.000+0000", &utc);
  return text;
}

// yyyy-mm-dd, the releaseDate Jira's REST API takes.
bool isDate(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (const char c : text.substr(0, 4) + text.substr(5, 2) + text.substr(8, 2)) {
    if (c < '0' || c > '9') return false;
  }
  const int month = std::stoi(text.substr(5, 2));
  const int day = std::stoi(text.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// A JSON value as text, to give back later as it was posted.
std::string jsonText(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

// A string member of an object, or "" when absent or not a string.
std::string stringMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return "";
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return "";
  return std::string(member->value.GetString(), member->value.GetStringLength());
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

// The account the simulator authenticates, as Jira names a user: Cloud by accountId, Data
// Center by name and key; both are given.
void writeUser(JsonWriter& writer, const std::string& email) {
  writer.StartObject();
  writer.Key("accountId");
  writer.String("557058:simulator");
  writer.Key("name");
  writeString(writer, email);
  writer.Key("key");
  writeString(writer, email);
  writer.Key("emailAddress");
  writeString(writer, email);
  writer.Key("displayName");
  writeString(writer, email);
  writer.Key("active");
  writer.Bool(true);
  writer.EndObject();
}

void writeWorklog(JsonWriter& writer, const std::string& base_url, const std::string& email,
                  const std::string& issue_id, const JiraSimulator::Worklog& worklog,
                  const std::string& started, const std::string& created) {
  writer.StartObject();
  writer.Key("self");
  writeString(writer,
              fmt::format("{}/rest/api/2/issue/{}/worklog/{}", base_url, issue_id, worklog.id));
  writer.Key("author");
  writeUser(writer, email);
  writer.Key("updateAuthor");
  writeUser(writer, email);
  if (!worklog.comment.empty()) {
    writer.Key("comment");
    writeString(writer, worklog.comment);
  }
  writer.Key("created");
  writeString(writer, created);
  writer.Key("updated");
  writeString(writer, created);
  writer.Key("started");
  writeString(writer, started);
  writer.Key("timeSpent");
  writeString(writer, formatDuration(worklog.seconds));
  writer.Key("timeSpentSeconds");
  writer.Int(worklog.seconds);
  writer.Key("id");
  writeString(writer, worklog.id);
  writer.Key("issueId");
  writeString(writer, issue_id);
  writer.EndObject();
}

// A version as Jira writes it; project_id empty where Jira leaves it out (an issue's field).
void writeVersion(JsonWriter& writer, const std::string& base_url,
                  const JiraSimulator::Version& version, const std::string& project_id) {
  writer.StartObject();
  writer.Key("self");
  writeString(writer, base_url + "/rest/api/2/version/" + version.id);
  writer.Key("id");
  writeString(writer, version.id);
  writer.Key("name");
  writeString(writer, version.name);
  writer.Key("archived");
  writer.Bool(version.archived);
  writer.Key("released");
  writer.Bool(version.released);
  if (!version.release_date.empty()) {
    writer.Key("releaseDate");
    writeString(writer, version.release_date);
  }
  if (!project_id.empty()) {
    writer.Key("projectId");
    writer.Int(std::stoi(project_id));
  }
  writer.EndObject();
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
  return issue == issues_.end() ? 0 : static_cast<int>(issue->second.worklogs.size());
}

std::vector<JiraSimulator::Version> JiraSimulator::versions(const std::string& project) const {
  std::lock_guard lock(mutex_);
  auto versions = versions_.find(project);
  return versions == versions_.end() ? std::vector<Version>() : versions->second;
}

std::string JiraSimulator::addVersion(const std::string& project, const std::string& name,
                                      bool released, const std::string& release_date) {
  std::lock_guard lock(mutex_);
  if (projectId(project).empty()) {
    throw std::invalid_argument("Jira simulator: " + project + " is not a configured project");
  }
  if (name.empty()) throw std::invalid_argument("Jira simulator: a version needs a name");
  if (Version* existing = findVersion(project, name)) return existing->id;
  return makeVersion(project, name, released, release_date).id;
}

std::vector<std::string> JiraSimulator::fixVersions(const std::string& key) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  auto issue = issues_.find(key);
  if (issue == issues_.end()) return names;
  const std::string project = key.substr(0, key.find('-'));
  for (const auto& id : issue->second.fix_version_ids) {
    if (const Version* version = versionById(project, id)) names.push_back(version->name);
  }
  return names;
}

std::vector<JiraSimulator::Worklog> JiraSimulator::worklogs(const std::string& key) const {
  std::lock_guard lock(mutex_);
  std::vector<Worklog> worklogs;
  auto issue = issues_.find(key);
  if (issue == issues_.end()) return worklogs;
  for (const auto& stored : issue->second.worklogs)
    worklogs.push_back(stored.worklog);
  return worklogs;
}

std::vector<JiraSimulator::RemoteLink> JiraSimulator::remoteLinks(const std::string& key) const {
  std::lock_guard lock(mutex_);
  std::vector<RemoteLink> links;
  auto issue = issues_.find(key);
  if (issue == issues_.end()) return links;
  for (const auto& stored : issue->second.remote_links)
    links.push_back(stored.link);
  return links;
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
  versions_.clear();
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

  // /rest/api/2/issue/{key}, and /transitions, /comment, /worklog and /remotelink under it.
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (startsWith(path, kIssuePathPrefix)) {
    const std::string rest = path.substr(std::strlen(kIssuePathPrefix));
    const size_t slash = rest.find('/');
    const std::string key = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash);
    if (!key.empty()) {
      if (method == "GET" && action.empty()) return getIssue(key, request);
      if (method == "PUT" && action.empty()) return putIssue(key, request.body);
      if (method == "GET" && action == "/comment") return getComments(key, request);
      if (method == "POST" && action == "/transitions") return postTransition(key, request.body);
      if (method == "POST" && action == "/comment") return postComment(key, request.body);
      if (method == "POST" && action == "/worklog") return postWorklog(key, request.body);
      if (method == "GET" && action == "/worklog") return getWorklogs(key);
      if (method == "POST" && action == "/remotelink") return postRemoteLink(key, request.body);
      if (method == "GET" && action == "/remotelink") return getRemoteLinks(key, request);
    }
  }
  // /rest/api/2/project/{key}/versions
  constexpr const char* kProjectPathPrefix = "/rest/api/2/project/";
  constexpr const char* kVersionsSuffix = "/versions";
  if (method == "GET" && startsWith(path, kProjectPathPrefix) &&
      path.size() > std::strlen(kProjectPathPrefix) + std::strlen(kVersionsSuffix) &&
      path.compare(path.size() - std::strlen(kVersionsSuffix), std::string::npos,
                   kVersionsSuffix) == 0) {
    const std::string project =
        path.substr(std::strlen(kProjectPathPrefix),
                    path.size() - std::strlen(kProjectPathPrefix) - std::strlen(kVersionsSuffix));
    if (project.find('/') == std::string::npos) return getProjectVersions(project);
  }
  if (method == "POST" && path == "/rest/api/2/version") return postVersion(request.body);
  // The inspection routes; /simulator/... are their first names, kept for older scripts.
  if (method == "GET" && (path == "/_sim/issues" || path == "/simulator/issues")) {
    return simulatorIssues();
  }
  if (method == "POST" && (path == "/_sim/reset" || path == "/simulator/reset")) {
    reset();
    return {204, "", "reset: every issue, version, count and fault forgotten"};
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

JiraSimulator::Answer JiraSimulator::getIssue(const std::string& key,
                                              const httplib::Request& request) {
  // Jira answers every field without `fields`, and only those named with it.
  bool with_fix_versions = !request.has_param("fields");
  if (!with_fix_versions) {
    const std::string fields = "," + request.get_param_value("fields") + ",";
    for (const char* name : {",fixVersions,", ",*all,", ",*navigable,"})
      with_fix_versions = with_fix_versions || fields.find(name) != std::string::npos;
  }
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
  if (with_fix_versions) {
    const std::string project = key.substr(0, key.find('-'));
    writer.Key("fixVersions");
    writer.StartArray();
    for (const auto& id : issue->fix_version_ids) {
      if (const Version* version = versionById(project, id)) {
        writeVersion(writer, url(), *version, "");
      }
    }
    writer.EndArray();
  }
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

JiraSimulator::Answer JiraSimulator::putIssue(const std::string& key, const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    const std::string message = "The request body is not a JSON object.";
    return {400, errorBody(message), message};
  }
  // The fix version ids the issue will have, decided before anything changes: Jira applies an
  // edit whole or not at all.
  std::lock_guard lock(mutex_);
  Issue* issue = findIssue(key);
  if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};
  const std::string project = key.substr(0, key.find('-'));
  std::vector<std::string> ids = issue->fix_version_ids;

  // {"name": N} or {"id": I} to the project's version id; sets `problem` when there is none.
  std::string problem;
  auto resolve = [&](const rapidjson::Value& reference) -> std::string {
    if (reference.IsObject() && reference.HasMember("id")) {
      const rapidjson::Value& id = reference["id"];
      const std::string text = id.IsString() ? id.GetString()
                               : id.IsInt()  ? std::to_string(id.GetInt())
                                             : "";
      if (!text.empty() && versionById(project, text)) return text;
      problem = "Version id '" + text + "' is not valid";
      return "";
    }
    const std::string name = stringMember(reference, "name");
    if (const Version* version = findVersion(project, name)) return version->id;
    problem = "Version name '" + name + "' is not valid";
    return "";
  };
  auto add = [&](const std::string& id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  auto setAll = [&](const rapidjson::Value& references) {
    if (!references.IsArray()) {
      problem = "fixVersions takes an array of versions, as in [{\"name\":\"1.0\"}]";
      return;
    }
    ids.clear();
    for (const auto& reference : references.GetArray()) {
      const std::string id = resolve(reference);
      if (!problem.empty()) return;
      add(id);
    }
  };
  auto cannotSet = [](const std::string& field) -> Answer {
    const std::string message = fmt::format(
        "Field '{}' cannot be set. It is not on the appropriate screen, or unknown.", field);
    return {400, fieldErrorBody(field, message), message};
  };

  if (document.HasMember("fields") && document["fields"].IsObject()) {
    for (const auto& field : document["fields"].GetObject()) {
      const std::string name = field.name.GetString();
      if (name != "fixVersions") return cannotSet(name);
      setAll(field.value);
    }
  }
  if (document.HasMember("update") && document["update"].IsObject()) {
    for (const auto& field : document["update"].GetObject()) {
      const std::string name = field.name.GetString();
      if (name != "fixVersions") return cannotSet(name);
      if (!field.value.IsArray()) {
        problem =
            R"(update.fixVersions takes an array of operations, as in [{"add":{"name":"1.0"}}])";
      } else {
        for (const auto& operation : field.value.GetArray()) {
          if (!problem.empty()) break;
          if (!operation.IsObject() || operation.MemberCount() != 1) {
            problem = R"(Each fixVersions operation is one of "add", "set" and "remove".)";
            break;
          }
          const std::string verb = operation.MemberBegin()->name.GetString();
          const rapidjson::Value& value = operation.MemberBegin()->value;
          if (verb == "add") {
            const std::string id = resolve(value);
            if (problem.empty()) add(id);
          } else if (verb == "remove") {
            const std::string id = resolve(value);
            if (problem.empty()) ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
          } else if (verb == "set") {
            setAll(value);
          } else {
            problem = fmt::format("Operation '{}' is not supported for fixVersions.", verb);
          }
        }
      }
    }
  }
  if (!problem.empty()) return {400, fieldErrorBody("fixVersions", problem), problem};
  if (ids == issue->fix_version_ids) return {204, "", ""};
  issue->fix_version_ids = ids;
  std::string names;
  for (const auto& id : ids) {
    if (const Version* version = versionById(project, id)) {
      names += (names.empty() ? "" : ", ") + version->name;
    }
  }
  return {204, "", fmt::format("{}: fix versions [{}]", key, names)};
}

JiraSimulator::Answer JiraSimulator::postWorklog(const std::string& key, const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  std::optional<int> seconds;
  if (!document.HasParseError() && document.IsObject()) {
    if (document.HasMember("timeSpentSeconds")) {
      if (document["timeSpentSeconds"].IsInt() && document["timeSpentSeconds"].GetInt() > 0) {
        seconds = document["timeSpentSeconds"].GetInt();
      }
    } else if (document.HasMember("timeSpent") && document["timeSpent"].IsString()) {
      seconds = parseDuration(document["timeSpent"].GetString());
    }
  }
  if (!seconds) {
    const std::string message =
        R"(The request body needs "timeSpentSeconds" (a positive number) or "timeSpent" )"
        R"((as in "1h 30m").)";
    return {400, fieldErrorBody("timeLogged", message), message};
  }
  const rapidjson::Value* comment_value =
      document.HasMember("comment") ? &document["comment"] : nullptr;
  if (comment_value && !comment_value->IsString()) {
    const std::string message = R"("comment" is a string in REST API v2.)";
    return {400, fieldErrorBody("comment", message), message};
  }
  StoredWorklog stored;
  stored.worklog.seconds = *seconds;
  stored.worklog.comment = comment_value ? comment_value->GetString() : "";
  stored.worklog.author = options_.email;
  stored.created = jiraTimestamp();
  stored.started = stringMember(document, "started");
  if (stored.started.empty()) stored.started = stored.created;

  std::string issue_id;
  {
    std::lock_guard lock(mutex_);
    Issue* issue = findIssue(key);
    if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};
    stored.worklog.id = std::to_string(next_worklog_id_++);
    issue->worklogs.push_back(stored);
    issue_id = issue->id;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writeWorklog(writer, url(), options_.email, issue_id, stored.worklog, stored.started,
               stored.created);
  std::string event = fmt::format("{}: worklog {}", key, formatDuration(*seconds));
  if (!stored.worklog.comment.empty()) {
    event += fmt::format(" \"{}\"", excerpt(stored.worklog.comment));
  }
  return {201, buffer.GetString(), event};
}

JiraSimulator::Answer JiraSimulator::getWorklogs(const std::string& key) {
  std::lock_guard lock(mutex_);
  Issue* issue = findIssue(key);
  if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};
  const auto total = static_cast<int>(issue->worklogs.size());
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("startAt");
  writer.Int(0);
  writer.Key("maxResults");
  writer.Int(total);
  writer.Key("total");
  writer.Int(total);
  writer.Key("worklogs");
  writer.StartArray();
  for (const auto& stored : issue->worklogs)
    writeWorklog(writer, url(), options_.email, issue->id, stored.worklog, stored.started,
                 stored.created);
  writer.EndArray();
  writer.EndObject();
  return {200, buffer.GetString(), ""};
}

JiraSimulator::Answer JiraSimulator::postRemoteLink(const std::string& key,
                                                    const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    const std::string message = "The request body is not a JSON object.";
    return {400, errorBody(message), message};
  }
  const rapidjson::Value* object =
      document.HasMember("object") && document["object"].IsObject() ? &document["object"] : nullptr;
  StoredRemoteLink stored;
  stored.link.global_id = stringMember(document, "globalId");
  stored.link.relationship = stringMember(document, "relationship");
  stored.link.url = object ? stringMember(*object, "url") : "";
  stored.link.title = object ? stringMember(*object, "title") : "";
  for (const char* field : {"url", "title"}) {
    if ((std::string(field) == "url" ? stored.link.url : stored.link.title).empty()) {
      const std::string message = fmt::format("'{}' is required in \"object\".", field);
      return {400, fieldErrorBody(field, message), message};
    }
  }
  stored.object_json = jsonText(*object);
  if (document.HasMember("application") && document["application"].IsObject()) {
    stored.application_json = jsonText(document["application"]);
  }

  int id = 0;
  bool updated = false;
  {
    std::lock_guard lock(mutex_);
    Issue* issue = findIssue(key);
    if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};
    // A globalId names one link of the issue: posting it again updates that link.
    auto existing = std::find_if(
        issue->remote_links.begin(), issue->remote_links.end(), [&](const StoredRemoteLink& link) {
          return !stored.link.global_id.empty() && link.link.global_id == stored.link.global_id;
        });
    if (existing != issue->remote_links.end()) {
      stored.link.id = existing->link.id;
      stored.link.updates = existing->link.updates + 1;
      *existing = stored;
      updated = true;
    } else {
      stored.link.id = next_remote_link_id_++;
      issue->remote_links.push_back(stored);
    }
    id = stored.link.id;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  writer.Key("id");
  writer.Int(id);
  writer.Key("self");
  writeString(writer, fmt::format("{}/rest/api/2/issue/{}/remotelink/{}", url(), key, id));
  writer.EndObject();
  return {updated ? 200 : 201, buffer.GetString(),
          fmt::format("{}: link {} {} \"{}\"", key, updated ? "updated" : "added", stored.link.url,
                      excerpt(stored.link.title))};
}

JiraSimulator::Answer JiraSimulator::getRemoteLinks(const std::string& key,
                                                    const httplib::Request& request) {
  std::lock_guard lock(mutex_);
  Issue* issue = findIssue(key);
  if (!issue) return {404, errorBody(kNoSuchIssue), kNoSuchIssue};
  auto write = [&](JsonWriter& writer, const StoredRemoteLink& stored) {
    writer.StartObject();
    writer.Key("id");
    writer.Int(stored.link.id);
    writer.Key("self");
    writeString(writer,
                fmt::format("{}/rest/api/2/issue/{}/remotelink/{}", url(), key, stored.link.id));
    if (!stored.link.global_id.empty()) {
      writer.Key("globalId");
      writeString(writer, stored.link.global_id);
    }
    if (!stored.application_json.empty()) {
      writer.Key("application");
      writer.RawValue(stored.application_json.data(), stored.application_json.size(),
                      rapidjson::kObjectType);
    }
    if (!stored.link.relationship.empty()) {
      writer.Key("relationship");
      writeString(writer, stored.link.relationship);
    }
    writer.Key("object");
    writer.RawValue(stored.object_json.data(), stored.object_json.size(), rapidjson::kObjectType);
    writer.EndObject();
  };
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  // ?globalId= asks for that one link, as an object.
  if (request.has_param("globalId")) {
    const std::string global_id = request.get_param_value("globalId");
    for (const auto& stored : issue->remote_links) {
      if (stored.link.global_id != global_id) continue;
      write(writer, stored);
      return {200, buffer.GetString(), ""};
    }
    const std::string message = "No remote link with globalId '" + global_id + "' on " + key + ".";
    return {404, errorBody(message), message};
  }
  writer.StartArray();
  for (const auto& stored : issue->remote_links)
    write(writer, stored);
  writer.EndArray();
  return {200, buffer.GetString(), ""};
}

JiraSimulator::Answer JiraSimulator::getProjectVersions(const std::string& project) {
  std::lock_guard lock(mutex_);
  const std::string project_id = projectId(project);
  if (project_id.empty()) {
    const std::string message = "No project could be found with key '" + project + "'.";
    return {404, errorBody(message), message};
  }
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartArray();
  if (auto versions = versions_.find(project); versions != versions_.end()) {
    for (const auto& version : versions->second)
      writeVersion(writer, url(), version, project_id);
  }
  writer.EndArray();
  return {200, buffer.GetString(), ""};
}

JiraSimulator::Answer JiraSimulator::postVersion(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    const std::string message = "The request body is not a JSON object.";
    return {400, errorBody(message), message};
  }
  auto refuse = [](const std::string& field, const std::string& message) -> Answer {
    return {400, fieldErrorBody(field, message), message};
  };
  const std::string name = stringMember(document, "name");
  if (name.empty()) return refuse("name", "You must specify a valid version name");
  if (name.size() > 255) return refuse("name", "The version name must not exceed 255 characters.");
  const std::string release_date = stringMember(document, "releaseDate");
  if (document.HasMember("releaseDate") && !isDate(release_date)) {
    return refuse("releaseDate", "Please enter the date in the format yyyy-mm-dd.");
  }
  if (document.HasMember("released") && !document["released"].IsBool()) {
    return refuse("released", "\"released\" is true or false.");
  }
  const bool released = document.HasMember("released") && document["released"].GetBool();

  std::lock_guard lock(mutex_);
  // The project by key ("project") or by id ("projectId", a number or a string of one).
  std::string project;
  if (document.HasMember("project") && document["project"].IsString()) {
    project = document["project"].GetString();
    if (projectId(project).empty()) {
      return refuse("project", "Project with key '" + project + "' does not exist.");
    }
  } else if (document.HasMember("projectId")) {
    const rapidjson::Value& id = document["projectId"];
    const std::string text = id.IsString() ? id.GetString()
                             : id.IsInt()  ? std::to_string(id.GetInt())
                                           : "";
    for (const auto& candidate : options_.projects) {
      if (projectId(candidate) == text) project = candidate;
    }
    if (project.empty()) return refuse("project", "Project with id '" + text + "' does not exist.");
  } else {
    return refuse("project", "Project must be specified to create a version.");
  }
  if (findVersion(project, name)) {
    return refuse("name", "A version with this name already exists in this project.");
  }
  const Version& version = makeVersion(project, name, released, release_date);
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writeVersion(writer, url(), version, projectId(project));
  return {201, buffer.GetString(),
          fmt::format("{}: version \"{}\" created{}", project, excerpt(name),
                      released ? " (released " + release_date + ")" : "")};
}

JiraSimulator::Answer JiraSimulator::simulatorIssues() {
  std::lock_guard lock(mutex_);
  // Indented: this one is for people (curl) as much as for scripts.
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  writer.StartObject();
  writer.Key("issues");
  writer.StartArray();
  for (const auto& [key, issue] : issues_) {
    const std::string project = key.substr(0, key.find('-'));
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
    writer.Key("fixVersions");
    writer.StartArray();
    for (const auto& id : issue.fix_version_ids) {
      if (const Version* version = versionById(project, id)) writeString(writer, version->name);
    }
    writer.EndArray();
    writer.Key("worklogs");
    writer.StartArray();
    for (const auto& stored : issue.worklogs) {
      writer.StartObject();
      writer.Key("id");
      writeString(writer, stored.worklog.id);
      writer.Key("timeSpent");
      writeString(writer, formatDuration(stored.worklog.seconds));
      writer.Key("timeSpentSeconds");
      writer.Int(stored.worklog.seconds);
      writer.Key("comment");
      writeString(writer, stored.worklog.comment);
      writer.Key("author");
      writeString(writer, stored.worklog.author);
      writer.Key("started");
      writeString(writer, stored.started);
      writer.EndObject();
    }
    writer.EndArray();
    writer.Key("remoteLinks");
    writer.StartArray();
    for (const auto& stored : issue.remote_links) {
      writer.StartObject();
      writer.Key("id");
      writer.Int(stored.link.id);
      writer.Key("globalId");
      writeString(writer, stored.link.global_id);
      writer.Key("url");
      writeString(writer, stored.link.url);
      writer.Key("title");
      writeString(writer, stored.link.title);
      writer.Key("updates");
      writer.Int(stored.link.updates);
      writer.EndObject();
    }
    writer.EndArray();
    writer.Key("comments");
    writer.StartArray();
    for (const auto& comment : issue.comments)
      writeString(writer, comment.body);
    writer.EndArray();
    writer.EndObject();
  }
  writer.EndArray();
  writer.Key("versions");
  writer.StartObject();
  for (const auto& [project, versions] : versions_) {
    writeString(writer, project);
    writer.StartArray();
    for (const auto& version : versions) {
      writer.StartObject();
      writer.Key("id");
      writeString(writer, version.id);
      writer.Key("name");
      writeString(writer, version.name);
      writer.Key("released");
      writer.Bool(version.released);
      writer.Key("releaseDate");
      writeString(writer, version.release_date);
      writer.EndObject();
    }
    writer.EndArray();
  }
  writer.EndObject();
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
  return {200, std::string(buffer.GetString()) + "\n", ""};
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

JiraSimulator::Version* JiraSimulator::findVersion(const std::string& project,
                                                   const std::string& name) {
  auto versions = versions_.find(project);
  if (versions == versions_.end() || name.empty()) return nullptr;
  const std::string wanted = toLower(name);
  for (auto& version : versions->second) {
    if (toLower(version.name) == wanted) return &version;
  }
  return nullptr;
}

const JiraSimulator::Version* JiraSimulator::versionById(const std::string& project,
                                                         const std::string& id) const {
  auto versions = versions_.find(project);
  if (versions == versions_.end()) return nullptr;
  for (const auto& version : versions->second) {
    if (version.id == id) return &version;
  }
  return nullptr;
}

JiraSimulator::Version& JiraSimulator::makeVersion(const std::string& project,
                                                   const std::string& name, bool released,
                                                   const std::string& release_date) {
  Version version;
  version.id = std::to_string(next_version_id_++);
  version.name = name;
  version.released = released;
  version.release_date = release_date;
  auto& versions = versions_[project];
  versions.push_back(std::move(version));
  return versions.back();
}

std::string JiraSimulator::projectId(const std::string& project) const {
  // Jira's project ids are numbers; here, 10000 for the first project configured, and so on.
  auto found = std::find(options_.projects.begin(), options_.projects.end(), project);
  if (found == options_.projects.end()) return "";
  return std::to_string(10000 + (found - options_.projects.begin()));
}

}  // namespace conduit::jira_simulator
