// A stand-in for the Conduit host, so that a plugin's author tests the plugin without the
// daemon: FakeHost answers the host API from tables the test fills in and records what the
// plugin did; PluginUnderTest drives a descriptor as the host does. Header-only C++17.
//
//   conduit::sdk::testing::FakeHost host;
//   host.addTransition("SOC", "To Do", "next", "in_progress", "In Progress");
//   conduit::sdk::testing::PluginUnderTest plugin(conduit_plugin_entry_v1(), host);
//   conduit::sdk::testing::EventData event;
//   event.kind = "pull_request.merged";
//   event.title = "SOC-12: fix";
//   auto answer = plugin.process(event);
//   CHECK(answer.actions.at(0).get("action") == "moved");  // what the plugin reported
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "conduit/plugin.h"
#include "conduit/sdk.hpp"

namespace conduit::sdk::testing {

// An event to hand to a plugin, owning its strings.
struct EventData {
  uint32_t attempt = 1;
  std::string provider = "github";
  std::string repo_id = "repo";
  std::string repo_path = "org/repo";
  std::string kind = "pull_request.merged";
  std::string delivery_id = "delivery-1";
  std::string title, body, branch;
  std::vector<std::string> commit_messages;
  std::string release_name, release_body, url, author;
  std::string raw_json = "{}";
  // 1.3
  std::string host_name = "GitHub";
  std::string repository, number, reference, target_branch, tag, released_at;
  // Per commit, as commit_messages; a missing entry is handed over empty.
  std::vector<std::string> commit_ids, commit_urls, commit_authors;
};

// One action a plugin reported (Host::report), checked as the host checks it.
struct Report {
  std::string json;                           // as the plugin wrote it
  std::map<std::string, std::string> fields;  // each member: a string's text, a number's digits
  // The member `name`, or "" when the action has none.
  std::string get(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  }
};

namespace detail {

// Reads a JSON object whose members are strings or numbers, as the host accepts a reported
// action; nullopt with `error` set for anything else.
class FlatJsonReader {
 public:
  explicit FlatJsonReader(std::string_view text) : t_(text) {}

  std::optional<std::map<std::string, std::string>> read(std::string& error) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(t_.data());
    for (size_t at = 0; at < t_.size();) {
      const size_t length =
          bytes[at] < 0x80 ? 1 : ReportField::utf8Length(bytes + at, t_.size() - at);
      if (length == 0) return fail(error, "not valid UTF-8");
      at += length;
    }
    std::map<std::string, std::string> fields;
    std::set<std::string> numbers;
    space();
    if (!take('{')) return fail(error, "not a JSON object");
    space();
    if (!take('}')) {
      while (true) {
        space();
        std::string name, value;
        if (!string(name)) return fail(error, "a member name is not a JSON string");
        space();
        if (!take(':')) return fail(error, "no `:` after a member name");
        space();
        if (at() == '"') {
          if (!string(value)) return fail(error, "a string is not valid JSON");
        } else if (number(value)) {
          numbers.insert(name);
        } else {
          return fail(error, "the member `" + name + "` is neither a string nor a number");
        }
        if (!fields.emplace(name, value).second) {
          return fail(error, "the member `" + name + "` twice");
        }
        space();
        if (take('}')) break;
        if (!take(',')) return fail(error, "no `,` or `}` after a member");
      }
    }
    space();
    if (i_ != t_.size()) return fail(error, "more after the object");
    auto action = fields.find("action");
    if (action == fields.end() || action->second.empty() || numbers.count("action")) {
      return fail(error, "no string member `action` naming what was done");
    }
    return fields;
  }

 private:
  static std::nullopt_t fail(std::string& error, std::string why) {
    error = std::move(why);
    return std::nullopt;
  }
  char at() const { return i_ < t_.size() ? t_[i_] : '\0'; }
  bool take(char c) {
    if (at() != c || i_ >= t_.size()) return false;
    ++i_;
    return true;
  }
  void space() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
  }
  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  bool hex4(uint32_t& cp) {
    if (i_ + 4 > t_.size()) return false;
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = t_[i_++];
      cp <<= 4;
      if (c >= '0' && c <= '9')
        cp |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        cp |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        cp |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  bool string(std::string& out) {
    if (!take('"')) return false;
    while (i_ < t_.size()) {
      const char c = t_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= t_.size()) return false;
      const char e = t_[i_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low = 0;
            if (!take('\\') || !take('u') || !hex4(low) || low < 0xdc00 || low > 0xdfff) {
              return false;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return false;
          }
          utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  bool digits() {
    const size_t start = i_;
    while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9')
      ++i_;
    return i_ > start;
  }
  bool number(std::string& out) {
    const size_t start = i_;
    take('-');
    if (take('0')) {
    } else if (!digits()) {
      return false;
    }
    if (take('.') && !digits()) return false;
    if (at() == 'e' || at() == 'E') {
      ++i_;
      if (!take('+')) take('-');
      if (!digits()) return false;
    }
    out.assign(t_.substr(start, i_ - start));
    return true;
  }

  std::string_view t_;
  size_t i_ = 0;
};

}  // namespace detail

class FakeHost {
 public:
  // What `report` accepts, as the host (plugin.h).
  static constexpr size_t kMaxActionBytes = 4096;
  static constexpr size_t kMaxActionsPerCall = 200;

  FakeHost() {
    api_.struct_size = sizeof api_;
    api_.log = &FakeHost::logThunk;
    api_.count = &FakeHost::countThunk;
    api_.config_get = &FakeHost::configThunk;
    api_.state_next = &FakeHost::nextThunk;
    api_.state_path = &FakeHost::pathThunk;
    api_.checkpoint_put = &FakeHost::putThunk;
    api_.checkpoint_get = &FakeHost::getThunk;
    api_.lease_acquire = &FakeHost::acquireThunk;
    api_.lease_extend = &FakeHost::extendThunk;
    api_.lease_release = &FakeHost::releaseThunk;
    api_.report = &FakeHost::reportThunk;
    api_.claim = &FakeHost::claimThunk;
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  // ---- what the plugin can see ----
  void setConfig(std::string key, std::string value) { config_[std::move(key)] = std::move(value); }
  // `event` from `status` in `project` leads to `state_id` ("In Progress" its status).
  void addTransition(std::string project, std::string status, std::string event,
                     std::string state_id, std::string target_status) {
    next_[{std::move(project), std::move(status), std::move(event)}] = {false, std::move(state_id),
                                                                        std::move(target_status)};
  }
  void addEnd(std::string project, std::string status, std::string event) {
    next_[{std::move(project), std::move(status), std::move(event)}] = {true, "", ""};
  }
  void setPath(std::string project, std::string from_status, std::string to_state,
               std::vector<std::string> events) {
    paths_[{std::move(project), std::move(from_status), std::move(to_state)}] = std::move(events);
  }
  // Makes every checkpoint call fail, as an unreachable store would.
  void failCheckpoints(bool fail) { fail_checkpoints_ = fail; }
  // Plays another holder of the lease `name`, for `ttl` (or until releaseLease()): the plugin's
  // lease_acquire waits for it and answers BUSY when its wait runs out first.
  void holdLease(const std::string& name, std::chrono::milliseconds ttl = std::chrono::hours(1)) {
    std::lock_guard lock(leases_mutex_);
    leases_[name] = {"held-by-the-test", std::chrono::steady_clock::now() + ttl};
  }
  void releaseLease(const std::string& name) {
    std::lock_guard lock(leases_mutex_);
    leases_.erase(name);
  }
  // Plays another holder as holdLease() does, with the given token: an earlier attempt whose
  // process died holding the lease.
  void holdLease(const std::string& name, const std::string& token, std::chrono::milliseconds ttl) {
    std::lock_guard lock(leases_mutex_);
    leases_[name] = {token, std::chrono::steady_clock::now() + ttl};
  }
  // Puts a checkpoint as an earlier attempt would have.
  void setCheckpoint(std::string key, std::string value) {
    std::lock_guard lock(mutex_);
    checkpoints_[std::move(key)] = std::move(value);
  }
  // Plays another delivery (`owner`, an identity "<provider>::<repo_id>::<delivery id>") that
  // claimed `name` first.
  void holdClaim(const std::string& name, const std::string& owner) {
    std::lock_guard lock(mutex_);
    claims_[name] = owner;
  }
  // Makes every claim fail, as an unreachable Redis would.
  void failClaims(bool fail) { fail_claims_ = fail; }
  // The names claimed so far, with the delivery that holds each.
  std::map<std::string, std::string> claims() const {
    std::lock_guard lock(mutex_);
    return claims_;
  }
  // Makes every lease call fail, as an unreachable Redis would.
  void failLeases(bool fail) { fail_leases_ = fail; }
  // Plays the function table of an older conduit (ABI minor 0 to 3): it ends where that minor's
  // did. Such a conduit loads only plugins built for its minor or older, but code meant to run
  // against either (Host::report, which then does nothing, Host::hasLeases) is tested so.
  void poseAsAbiMinor(int minor) {
    if (minor <= 0) {
      api_.struct_size = static_cast<uint32_t>(offsetof(conduit_host_api, lease_acquire));
    } else if (minor == 1) {
      api_.struct_size = static_cast<uint32_t>(offsetof(conduit_host_api, report));
    } else if (minor <= 3) {
      api_.struct_size = static_cast<uint32_t>(offsetof(conduit_host_api, claim));
    } else {
      api_.struct_size = sizeof api_;
    }
  }
  // A new process() call: the limit of reports per call starts again. PluginUnderTest calls it.
  // `identity`: the delivery's, "<provider>::<repo_id>::<delivery id>", which its claims name.
  void beginProcess(std::string identity = "github::test::delivery") {
    {
      std::lock_guard lock(mutex_);
      identity_ = std::move(identity);
    }
    std::lock_guard lock(reports_mutex_);
    reports_this_call_ = 0;
  }

  // ---- what the plugin did ----
  const std::vector<std::pair<conduit_log_level, std::string>>& logs() const { return logs_; }
  int64_t counter(const std::string& metric) const {
    std::lock_guard lock(mutex_);
    auto it = counters_.find(metric);
    return it == counters_.end() ? 0 : it->second;
  }
  // The names of the leases the plugin took, in order, and whether it holds one now.
  std::vector<std::string> leasesTaken() const {
    std::lock_guard lock(leases_mutex_);
    return leases_taken_;
  }
  int leaseExtensions() const {
    std::lock_guard lock(leases_mutex_);
    return lease_extensions_;
  }
  bool leaseHeld(const std::string& name) const {
    std::lock_guard lock(leases_mutex_);
    auto it = leases_.find(name);
    return it != leases_.end() && it->second.expires > std::chrono::steady_clock::now();
  }
  // The actions the plugin reported and the host would have kept, in order, across calls.
  std::vector<Report> reports() const {
    std::lock_guard lock(reports_mutex_);
    return reports_;
  }
  // Why each refused report was refused, in order (the host logs the first of each call).
  std::vector<std::string> refusedReports() const {
    std::lock_guard lock(reports_mutex_);
    return refused_reports_;
  }
  std::optional<std::string> checkpoint(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = checkpoints_.find(key);
    if (it == checkpoints_.end()) return std::nullopt;
    return it->second;
  }

  const conduit_host_api* api() const { return &api_; }
  conduit_host* handle() { return reinterpret_cast<conduit_host*>(this); }

 private:
  struct Answer {
    bool end;
    std::string state_id, status;
  };
  using Key = std::tuple<std::string, std::string, std::string>;

  static FakeHost& self(conduit_host* host) { return *reinterpret_cast<FakeHost*>(host); }
  static std::string text(conduit_str s) { return std::string(view(s)); }
  // Keeps a string alive for the plugin (until the FakeHost is destroyed). Under mutex_.
  conduit_str keep(std::string s) { return str(scratch_.emplace_back(std::move(s))); }

  // Every function may be called from any thread, as the host's (ABI 1.4): one lock for what
  // the plugin reads and writes, besides leases and reports, which have their own.
  static void logThunk(conduit_host* host, conduit_log_level level, conduit_str message) {
    std::lock_guard lock(self(host).mutex_);
    self(host).logs_.emplace_back(level, text(message));
  }
  static void countThunk(conduit_host* host, conduit_str metric, int64_t delta) {
    std::lock_guard lock(self(host).mutex_);
    self(host).counters_[text(metric)] += delta;
  }
  static conduit_status configThunk(conduit_host* host, conduit_str key, conduit_str* value) {
    auto& me = self(host);
    std::lock_guard lock(me.mutex_);
    auto it = me.config_.find(text(key));
    if (it == me.config_.end()) return CONDUIT_STATUS_NOT_FOUND;
    *value = str(it->second);
    return CONDUIT_STATUS_OK;
  }
  static conduit_status nextThunk(conduit_host* host, conduit_delivery* delivery,
                                  conduit_str project, conduit_str status, conduit_str event,
                                  conduit_next* answer) {
    auto& me = self(host);
    if (delivery == nullptr) return CONDUIT_STATUS_ERROR;  // only during process()
    std::lock_guard lock(me.mutex_);
    auto it = me.next_.find({text(project), text(status), text(event)});
    if (it == me.next_.end()) {
      if (CONDUIT_STRUCT_HAS(answer, conduit_next, error)) {
        answer->error = me.keep("no transition for " + text(project) + " \"" + text(status) +
                                "\" " + text(event) + " in the FakeHost");
      }
      return CONDUIT_STATUS_NOT_FOUND;
    }
    // Only the fields the caller's struct_size covers, as the host does.
    if (CONDUIT_STRUCT_HAS(answer, conduit_next, status)) {
      answer->end = it->second.end ? 1 : 0;
      answer->state_id = str(it->second.state_id);
      answer->status = str(it->second.status);
    }
    return CONDUIT_STATUS_OK;
  }
  static conduit_status pathThunk(conduit_host* host, conduit_delivery* delivery,
                                  conduit_str project, conduit_str from, conduit_str to,
                                  conduit_path* path) {
    auto& me = self(host);
    if (delivery == nullptr) return CONDUIT_STATUS_ERROR;
    std::lock_guard lock(me.mutex_);
    auto it = me.paths_.find({text(project), text(from), text(to)});
    if (it == me.paths_.end()) return CONDUIT_STATUS_NOT_FOUND;
    // Kept, like every answer, as long as the FakeHost: earlier answers stay valid.
    auto& views = me.path_views_.emplace_back();
    for (const auto& event : it->second)
      views.push_back(str(event));
    if (CONDUIT_STRUCT_HAS(path, conduit_path, event_count)) {
      path->events = views.data();
      path->event_count = views.size();
    }
    return CONDUIT_STATUS_OK;
  }
  static conduit_status putThunk(conduit_host* host, conduit_delivery*, conduit_str key,
                                 conduit_str value) {
    auto& me = self(host);
    std::lock_guard lock(me.mutex_);
    if (me.fail_checkpoints_) return CONDUIT_STATUS_ERROR;
    me.checkpoints_[text(key)] = text(value);
    return CONDUIT_STATUS_OK;
  }
  static conduit_status getThunk(conduit_host* host, conduit_delivery*, conduit_str key,
                                 conduit_str* value) {
    auto& me = self(host);
    std::lock_guard lock(me.mutex_);
    if (me.fail_checkpoints_) return CONDUIT_STATUS_ERROR;
    auto it = me.checkpoints_.find(text(key));
    if (it == me.checkpoints_.end()) return CONDUIT_STATUS_NOT_FOUND;
    *value = me.keep(it->second);  // a later put must not change what this call answered
    return CONDUIT_STATUS_OK;
  }

  // First claim wins, as the host's (ABI 1.4); this delivery is beginProcess()'s identity.
  static conduit_status claimThunk(conduit_host* host, conduit_delivery* delivery, conduit_str name,
                                   conduit_str* owner) {
    auto& me = self(host);
    std::lock_guard lock(me.mutex_);
    if (delivery == nullptr || me.fail_claims_ || name.size == 0 || name.size > 256) {
      return CONDUIT_STATUS_ERROR;
    }
    auto [it, claimed] = me.claims_.emplace(text(name), me.identity_);
    if (claimed || it->second == me.identity_) return CONDUIT_STATUS_OK;
    if (owner != nullptr) *owner = me.keep(it->second);
    return CONDUIT_STATUS_BUSY;
  }

  // Leases: under a lock of their own, so that a test may hold one from another thread while
  // the plugin waits for it.
  static conduit_status acquireThunk(conduit_host* host, conduit_str name, uint32_t ttl_ms,
                                     uint32_t wait_ms, conduit_str* token) {
    auto& me = self(host);
    if (me.fail_leases_ || ttl_ms == 0) return CONDUIT_STATUS_ERROR;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (true) {
      {
        std::lock_guard lock(me.leases_mutex_);
        const auto now = std::chrono::steady_clock::now();
        auto it = me.leases_.find(text(name));
        if (it == me.leases_.end() || it->second.expires <= now) {
          const std::string taken = "token-" + std::to_string(++me.next_token_);
          me.leases_[text(name)] = {taken, now + std::chrono::milliseconds(ttl_ms)};
          me.leases_taken_.push_back(text(name));
          *token = str(me.tokens_.emplace_back(taken));
          return CONDUIT_STATUS_OK;
        }
        if (now >= deadline) return CONDUIT_STATUS_BUSY;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  static conduit_status extendThunk(conduit_host* host, conduit_str name, conduit_str token,
                                    uint32_t ttl_ms) {
    auto& me = self(host);
    if (me.fail_leases_ || ttl_ms == 0) return CONDUIT_STATUS_ERROR;
    std::lock_guard lock(me.leases_mutex_);
    const auto now = std::chrono::steady_clock::now();
    auto it = me.leases_.find(text(name));
    if (it == me.leases_.end() || it->second.token != text(token) || it->second.expires <= now) {
      return CONDUIT_STATUS_NOT_FOUND;
    }
    it->second.expires = now + std::chrono::milliseconds(ttl_ms);
    ++me.lease_extensions_;
    return CONDUIT_STATUS_OK;
  }
  static conduit_status releaseThunk(conduit_host* host, conduit_str name, conduit_str token) {
    auto& me = self(host);
    if (me.fail_leases_) return CONDUIT_STATUS_ERROR;
    std::lock_guard lock(me.leases_mutex_);
    auto it = me.leases_.find(text(name));
    if (it == me.leases_.end() || it->second.token != text(token) ||
        it->second.expires <= std::chrono::steady_clock::now()) {
      return CONDUIT_STATUS_NOT_FOUND;
    }
    me.leases_.erase(it);
    return CONDUIT_STATUS_OK;
  }

  // Checks as the host does (a flat JSON object of at most 4096 bytes with a string `action`,
  // at most 200 per process() call); thread-safe, as reports may come from any thread.
  static conduit_status reportThunk(conduit_host* host, conduit_delivery* delivery,
                                    conduit_str action) {
    auto& me = self(host);
    const std::string json = text(action);
    std::string error;
    std::optional<std::map<std::string, std::string>> fields;
    if (delivery == nullptr) {
      error = "no delivery: report is only for process()";
    } else if (json.size() > kMaxActionBytes) {
      error = std::to_string(json.size()) + " bytes, more than " + std::to_string(kMaxActionBytes);
    } else {
      fields = detail::FlatJsonReader(json).read(error);
    }
    std::lock_guard lock(me.reports_mutex_);
    if (fields && me.reports_this_call_ >= kMaxActionsPerCall) {
      fields.reset();
      error = "more than " + std::to_string(kMaxActionsPerCall) + " in one process() call";
    }
    if (!fields) {
      me.refused_reports_.push_back(error);
      return CONDUIT_STATUS_ERROR;
    }
    ++me.reports_this_call_;
    me.reports_.push_back(Report{json, std::move(*fields)});
    return CONDUIT_STATUS_OK;
  }

  struct HeldLease {
    std::string token;
    std::chrono::steady_clock::time_point expires;
  };

  conduit_host_api api_{};
  mutable std::mutex mutex_;  // everything below but leases and reports
  std::string identity_ = "github::test::delivery";
  std::map<std::string, std::string> claims_;
  std::atomic<bool> fail_claims_{false};
  mutable std::mutex leases_mutex_;
  std::map<std::string, HeldLease> leases_;
  std::vector<std::string> leases_taken_;
  std::deque<std::string> tokens_;
  int next_token_ = 0;
  int lease_extensions_ = 0;
  std::atomic<bool> fail_leases_{false};
  std::map<std::string, std::string> config_;
  std::map<Key, Answer> next_;
  std::map<Key, std::vector<std::string>> paths_;
  std::deque<std::vector<conduit_str>> path_views_;
  std::map<std::string, std::string> checkpoints_;
  std::atomic<bool> fail_checkpoints_{false};
  std::vector<std::pair<conduit_log_level, std::string>> logs_;
  std::map<std::string, int64_t> counters_;
  std::deque<std::string> scratch_;
  mutable std::mutex reports_mutex_;
  std::vector<Report> reports_;
  std::vector<std::string> refused_reports_;
  size_t reports_this_call_ = 0;
};

// Drives a plugin's descriptor as the host does: create() now, destroy() at the end.
class PluginUnderTest {
 public:
  PluginUnderTest(const conduit_plugin_descriptor* descriptor, FakeHost& host)
      : d_(descriptor), host_(host) {
    conduit_message error = buffer();
    instance_ = d_->create(host.api(), host.handle(), &error);
    if (instance_ == nullptr) {
      throw std::runtime_error("the plugin's create() failed: " + text(error));
    }
  }
  ~PluginUnderTest() {
    if (d_->shutdown != nullptr) d_->shutdown(instance_);
    d_->destroy(instance_);
  }
  PluginUnderTest(const PluginUnderTest&) = delete;
  PluginUnderTest& operator=(const PluginUnderTest&) = delete;

  // configure() with the given entry; returns the plugin's error message, or "" when accepted.
  std::string configure(const std::string& worker_name, const std::string& worker_json,
                        const std::vector<std::string>& projects) {
    if (d_->configure == nullptr) return "";
    std::vector<conduit_str> views;
    for (const auto& p : projects)
      views.push_back(str(p));
    conduit_config config{sizeof(conduit_config), str(worker_name), str(worker_json), views.data(),
                          views.size()};
    conduit_message error = buffer();
    if (d_->configure(instance_, &config, &error) == CONDUIT_STATUS_OK) return "";
    return error.size > 0 ? text(error) : "configure() failed without a message";
  }

  struct Answer {
    conduit_outcome outcome;
    uint32_t retry_after_ms;
    std::string message;          // the result's message after RETRY or FAILED
    std::vector<Report> actions;  // what the plugin reported during this call, in order
  };

  Answer process(const EventData& data) {
    std::vector<conduit_str> commits, ids, urls, authors;
    for (const auto& m : data.commit_messages)
      commits.push_back(str(m));
    // Each column as long as commit_messages, as the host hands them.
    auto column = [&](const std::vector<std::string>& from, std::vector<conduit_str>& to) {
      for (size_t i = 0; i < data.commit_messages.size(); ++i)
        to.push_back(i < from.size() ? str(from[i]) : conduit_str{nullptr, 0});
    };
    column(data.commit_ids, ids);
    column(data.commit_urls, urls);
    column(data.commit_authors, authors);
    conduit_event event{};
    event.struct_size = sizeof event;
    event.attempt = data.attempt;
    event.provider = str(data.provider);
    event.repo_id = str(data.repo_id);
    event.repo_path = str(data.repo_path);
    event.kind = str(data.kind);
    event.delivery_id = str(data.delivery_id);
    event.title = str(data.title);
    event.body = str(data.body);
    event.branch = str(data.branch);
    event.commit_messages = commits.data();
    event.commit_message_count = commits.size();
    event.release_name = str(data.release_name);
    event.release_body = str(data.release_body);
    event.url = str(data.url);
    event.author = str(data.author);
    event.raw_json = str(data.raw_json);
    event.host_name = str(data.host_name);
    event.repository = str(data.repository);
    event.number = str(data.number);
    event.reference = str(data.reference);
    event.target_branch = str(data.target_branch);
    event.tag = str(data.tag);
    event.released_at = str(data.released_at);
    event.commit_ids = ids.data();
    event.commit_urls = urls.data();
    event.commit_authors = authors.data();
    conduit_result result{sizeof(conduit_result), 0, buffer()};
    // The FakeHost keeps one checkpoint store, as for one delivery.
    auto* delivery = reinterpret_cast<conduit_delivery*>(&host_);
    host_.beginProcess(data.provider + "::" + data.repo_id + "::" + data.delivery_id);
    const size_t reported_before = host_.reports().size();
    const conduit_outcome outcome = d_->process(instance_, &event, delivery, &result);
    auto reports = host_.reports();
    return {outcome, result.retry_after_ms,
            outcome == CONDUIT_OUTCOME_OK ? std::string() : text(result.message),
            std::vector<Report>(reports.begin() + static_cast<std::ptrdiff_t>(reported_before),
                                reports.end())};
  }

 private:
  // A message buffer of the size the host hands over.
  conduit_message buffer() { return conduit_message{message_.data(), message_.size(), 0}; }
  static std::string text(const conduit_message& m) { return std::string(m.data, m.size); }

  std::array<char, 1024> message_{};
  const conduit_plugin_descriptor* d_;
  FakeHost& host_;
  conduit_instance* instance_ = nullptr;
};

}  // namespace conduit::sdk::testing
