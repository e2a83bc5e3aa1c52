// Conduit's C++17 plugin SDK: a header-only veneer over conduit/plugin.h.
//
//   class Hello : public conduit::sdk::Processor {
//    public:
//     conduit::sdk::Result process(const conduit::sdk::Event& event,
//                                  conduit::sdk::Delivery& delivery) override {
//       host().info("got " + std::string(event.kind()));
//       return conduit::sdk::Result::ok();
//     }
//   };
//   CONDUIT_PLUGIN(Hello, "hello", "1.0.0", 0)
//
// CONDUIT_PLUGIN writes the descriptor and the extern "C" functions of the ABI, and catches every
// exception at the boundary: none crosses into the host. An exception from process() is a RETRY
// (the host's retry limit and dead letters apply), with "uncaught exception: <what>" as message.
// Messages go into buffers the host hands over: nothing of the SDK outlives a call.
#pragma once

#include <chrono>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "conduit/plugin.h"

// An event's view added after 1.0, or empty when the host's event does not reach it.
#define CONDUIT_SDK_EVENT_VIEW(field) \
  (CONDUIT_STRUCT_HAS(&e_, conduit_event, field) ? view(e_.field) : std::string_view())

// Hidden, so that a plugin built without -fvisibility=hidden (through pkg-config, say) still
// exports nothing of the SDK: conduit_plugin_entry_v1 is a plugin's only symbol.
namespace conduit {
namespace __attribute__((visibility("hidden"))) sdk {

  inline std::string_view view(conduit_str s) {
    return s.size == 0 ? std::string_view() : std::string_view(s.data, s.size);
  }
  inline conduit_str str(std::string_view s) {
    return conduit_str{s.data(), s.size()};
  }

  // A host service failed (its store unreachable, say); answering RETRY is the usual response.
  class HostError : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };

  // One event, as views valid during process().
  class Event {
   public:
    explicit Event(const conduit_event& event) : e_(event) {}

    uint32_t attempt() const { return e_.attempt; }
    std::string_view provider() const { return view(e_.provider); }
    std::string_view repoId() const { return view(e_.repo_id); }
    std::string_view repoPath() const { return view(e_.repo_path); }
    std::string_view kind() const { return view(e_.kind); }
    std::string_view deliveryId() const { return view(e_.delivery_id); }
    std::string_view title() const { return view(e_.title); }
    std::string_view body() const { return view(e_.body); }
    std::string_view branch() const { return view(e_.branch); }
    std::vector<std::string_view> commitMessages() const {
      std::vector<std::string_view> messages;
      for (size_t i = 0; i < e_.commit_message_count; ++i) {
        messages.push_back(view(e_.commit_messages[i]));
      }
      return messages;
    }
    std::string_view releaseName() const { return view(e_.release_name); }
    std::string_view releaseBody() const { return view(e_.release_body); }
    std::string_view url() const { return view(e_.url); }
    std::string_view author() const { return view(e_.author); }
    std::string_view rawJson() const { return view(e_.raw_json); }

    // Added in 1.3; empty from an older host.
    std::string_view hostName() const { return CONDUIT_SDK_EVENT_VIEW(host_name); }
    std::string_view repository() const { return CONDUIT_SDK_EVENT_VIEW(repository); }
    std::string_view number() const { return CONDUIT_SDK_EVENT_VIEW(number); }
    std::string_view reference() const { return CONDUIT_SDK_EVENT_VIEW(reference); }
    std::string_view targetBranch() const { return CONDUIT_SDK_EVENT_VIEW(target_branch); }
    std::string_view tag() const { return CONDUIT_SDK_EVENT_VIEW(tag); }
    std::string_view releasedAt() const { return CONDUIT_SDK_EVENT_VIEW(released_at); }

    // One commit of a push; a field the host does not send is empty.
    struct Commit {
      std::string_view id, message, url, author;
    };
    // The commits of a push, oldest first; from an older host, only their messages.
    std::vector<Commit> commits() const {
      const bool detailed = CONDUIT_STRUCT_HAS(&e_, conduit_event, commit_authors);
      std::vector<Commit> commits;
      for (size_t i = 0; i < e_.commit_message_count; ++i) {
        Commit commit{{}, view(e_.commit_messages[i]), {}, {}};
        if (detailed) {
          if (e_.commit_ids != nullptr) commit.id = view(e_.commit_ids[i]);
          if (e_.commit_urls != nullptr) commit.url = view(e_.commit_urls[i]);
          if (e_.commit_authors != nullptr) commit.author = view(e_.commit_authors[i]);
        }
        commits.push_back(commit);
      }
      return commits;
    }

    const conduit_event& raw() const { return e_; }

   private:
    const conduit_event& e_;
  };
#undef CONDUIT_SDK_EVENT_VIEW

  // What process() answers.
  struct Result {
    conduit_outcome outcome = CONDUIT_OUTCOME_OK;
    std::chrono::milliseconds retry_after{0};  // RETRY: 0 leaves the delay to the host's backoff
    std::string message;                       // RETRY and FAILED: why, for logs and dead letters

    static Result ok() { return {}; }
    static Result retry(std::string why, std::chrono::milliseconds after = {}) {
      return {CONDUIT_OUTCOME_RETRY, after, std::move(why)};
    }
    static Result failed(std::string why) {
      return {CONDUIT_OUTCOME_FAILED, std::chrono::milliseconds(0), std::move(why)};
    }
  };

  // A lease taken with Host::lease(): released when it goes out of scope, or by release().
  class Lease {
   public:
    Lease(const conduit_host_api* api, conduit_host* host, std::string name, std::string token)
        : api_(api), host_(host), name_(std::move(name)), token_(std::move(token)) {}
    Lease(Lease&& other) noexcept
        : api_(other.api_),
          host_(other.host_),
          name_(std::move(other.name_)),
          token_(std::move(other.token_)),
          held_(other.held_) {
      other.held_ = false;
    }
    // Releases the lease held, if any, and takes `other`'s.
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        release();
        api_ = other.api_;
        host_ = other.host_;
        name_ = std::move(other.name_);
        token_ = std::move(other.token_);
        held_ = other.held_;
        other.held_ = false;
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }

    // Keeps the lease for `ttl` from now. True when it was still ours; false when it had
    // expired (stop what it protects). Throws HostError when Redis cannot be reached.
    bool extend(std::chrono::milliseconds ttl) {
      if (!held_) return false;
      const auto ms = ttl.count() <= 0            ? 0u
                      : ttl.count() >= UINT32_MAX ? UINT32_MAX
                                                  : static_cast<uint32_t>(ttl.count());
      switch (api_->lease_extend(host_, str(name_), str(token_), ms)) {
        case CONDUIT_STATUS_OK:
          return true;
        case CONDUIT_STATUS_NOT_FOUND:
          held_ = false;
          return false;
        default:
          throw HostError("the lease " + name_ + " could not be extended");
      }
    }

    // Ends the lease now. True when it was still ours; false when it had expired meanwhile
    // (what was done after that was not protected by it) or Redis could not be reached (it
    // then ends at its expiry). Calling it again does nothing and answers false.
    bool release() noexcept {
      if (!held_) return false;
      held_ = false;
      return api_->lease_release(host_, str(name_), str(token_)) == CONDUIT_STATUS_OK;
    }
    const std::string& name() const { return name_; }
    // The proof of holding: kept in a checkpoint, it lets a later attempt at the same delivery
    // take the lease back (Host::resumeLease) if this process dies holding it.
    const std::string& token() const { return token_; }

   private:
    const conduit_host_api* api_;
    conduit_host* host_;
    std::string name_;
    std::string token_;
    bool held_ = true;
  };

  class Delivery;

  // One member of a reported action (Host::report): a name and a string or a number. Made for
  // report()'s braced list: it keeps a view of `name` (the value is copied), so it must not
  // outlive the name it was given.
  class ReportField {
   public:
    ReportField(std::string_view name, std::string_view text) : name_(name), value_(quoted(text)) {}
    ReportField(std::string_view name, const char* text)
        : ReportField(name, std::string_view(text == nullptr ? "" : text)) {}
    ReportField(std::string_view name, const std::string& text)
        : ReportField(name, std::string_view(text)) {}
    template <typename N,
              typename = std::enable_if_t<std::is_arithmetic_v<N> && !std::is_same_v<N, bool> &&
                                          !std::is_same_v<N, char>>>
    ReportField(std::string_view name, N number) : name_(name), value_(numberText(number)) {}

    std::string_view name() const { return name_; }
    // The value as JSON: a quoted string or a number.
    const std::string& json() const { return value_; }

    // `text` as a JSON string: quotes, backslashes and control characters escaped, and each
    // byte that is not part of valid UTF-8 replaced by U+FFFD, so that any text can be
    // reported (a Jira status, a pull request's title).
    static std::string quoted(std::string_view text) {
      static const char* const kHex = "0123456789abcdef";
      std::string out;
      out.reserve(text.size() + 2);
      out += '"';
      const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
      const size_t n = text.size();
      for (size_t i = 0; i < n;) {
        const unsigned char c = bytes[i];
        if (c < 0x80) {
          if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
          } else if (c == '\n') {
            out += "\\n";
          } else if (c == '\t') {
            out += "\\t";
          } else if (c == '\r') {
            out += "\\r";
          } else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += static_cast<char>(c);
          }
          ++i;
          continue;
        }
        const size_t length = utf8Length(bytes + i, n - i);
        if (length == 0) {
          out += "\xef\xbf\xbd";  // U+FFFD for the byte that starts no valid sequence
          ++i;
        } else {
          out.append(text.data() + i, length);
          i += length;
        }
      }
      out += '"';
      return out;
    }

    // The length of the valid UTF-8 sequence at `s` (of at most `n` bytes), or 0.
    static size_t utf8Length(const unsigned char* s, size_t n) {
      auto continuation = [&](size_t i) { return i < n && (s[i] & 0xc0) == 0x80; };
      if (s[0] >= 0xc2 && s[0] <= 0xdf) return continuation(1) ? 2 : 0;
      if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if (!continuation(1) || !continuation(2)) return 0;
        if (s[0] == 0xe0 && s[1] < 0xa0) return 0;   // overlong
        if (s[0] == 0xed && s[1] >= 0xa0) return 0;  // a surrogate
        return 3;
      }
      if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
        if (s[0] == 0xf0 && s[1] < 0x90) return 0;   // overlong
        if (s[0] == 0xf4 && s[1] >= 0x90) return 0;  // past U+10FFFF
        return 4;
      }
      return 0;
    }

   private:
    template <typename N>
    static std::string numberText(N number) {
      if constexpr (std::is_integral_v<N>) {
        return std::to_string(number);
      } else {
        // JSON has no infinities and no NaN: those are reported as text.
        if (!std::isfinite(number)) return quoted(std::isnan(number) ? "NaN" : "Infinity");
        char text[32];
        std::snprintf(text, sizeof text, "%.17g", static_cast<double>(number));
        return text;
      }
    }

    std::string_view name_;
    std::string value_;
  };

  // The host's services for one plugin instance.
  class Host {
   public:
    Host() = default;
    Host(const conduit_host_api* api, conduit_host* host) : api_(api), host_(host) {}

    void log(conduit_log_level level, std::string_view message) const {
      api_->log(host_, level, str(message));
    }
    void debug(std::string_view m) const { log(CONDUIT_LOG_DEBUG, m); }
    void info(std::string_view m) const { log(CONDUIT_LOG_INFO, m); }
    void warn(std::string_view m) const { log(CONDUIT_LOG_WARN, m); }
    void error(std::string_view m) const { log(CONDUIT_LOG_ERROR, m); }

    void count(std::string_view metric, int64_t delta = 1) const {
      api_->count(host_, str(metric), delta);
    }

    // An app-config key the plugin declared; nullopt when unset.
    std::optional<std::string> config(std::string_view key) const {
      conduit_str value{};
      if (api_->config_get(host_, str(key), &value) != CONDUIT_STATUS_OK) return std::nullopt;
      return std::string(view(value));
    }

    struct Next {
      bool end = false;      // the transition is <end>
      std::string state_id;  // otherwise the target
      std::string status;    // and its Jira status
    };
    struct NextAnswer {
      std::optional<Next> next;  // set when the machine has an answer
      std::string error;         // otherwise why
    };

    // Where `event` leads from the Jira status `status` in `project`'s state machine, for the
    // delivery being processed (the state machines in force when its process() began). From
    // any thread, during process() for `delivery`.
    NextAnswer next(const Delivery& delivery, std::string_view project, std::string_view status,
                    std::string_view event) const;

    // The shortest sequence of events to `to_state`; nullopt when it cannot be reached. As
    // next().
    std::optional<std::vector<std::string>> path(const Delivery& delivery, std::string_view project,
                                                 std::string_view from_status,
                                                 std::string_view to_state) const;

    // Whether the host has the functions of ABI 1.1 (leases).
    bool hasLeases() const {
      return CONDUIT_STRUCT_HAS(api_, conduit_host_api, lease_release) &&
             api_->lease_acquire != nullptr && api_->lease_extend != nullptr &&
             api_->lease_release != nullptr;
    }

    // Takes the lease `name` (mutual exclusion across threads and worker processes) for at most
    // `ttl`, waiting up to `wait` while another holds it. nullopt when another still held it
    // then; throws HostError when Redis cannot be reached or the host has no leases. From any
    // thread, during a process() call (ABI 1.4; before, on the thread running process()). A
    // lease taken on the thread running process() and still held when it returns is released
    // by the host; release one taken on a thread of your own (the Lease does, going out of scope).
    std::optional<Lease> lease(std::string_view name, std::chrono::milliseconds ttl,
                               std::chrono::milliseconds wait) const {
      if (!hasLeases()) throw HostError("this conduit has no leases (plugin ABI 1.1)");
      auto clamp = [](std::chrono::milliseconds ms) {
        return ms.count() <= 0            ? 0u
               : ms.count() >= UINT32_MAX ? UINT32_MAX
                                          : static_cast<uint32_t>(ms.count());
      };
      conduit_str token{};
      switch (api_->lease_acquire(host_, str(name), clamp(ttl), clamp(wait), &token)) {
        case CONDUIT_STATUS_OK:
          return Lease(api_, host_, std::string(name), std::string(view(token)));
        case CONDUIT_STATUS_BUSY:
          return std::nullopt;
        default:
          throw HostError("the lease " + std::string(name) + " could not be taken");
      }
    }

    // Takes back, for `ttl`, a lease an earlier attempt at this delivery took (its token kept
    // in a checkpoint) and did not release because its process died: nullopt when it has
    // expired since (take it anew with lease()). Throws HostError as lease() does.
    std::optional<Lease> resumeLease(std::string_view name, std::string_view token,
                                     std::chrono::milliseconds ttl) const {
      if (!hasLeases()) throw HostError("this conduit has no leases (plugin ABI 1.1)");
      Lease lease(api_, host_, std::string(name), std::string(token));
      if (!lease.extend(ttl)) return std::nullopt;
      return lease;
    }

    // Whether the host takes reports (ABI 1.2): a 1.0 or 1.1 conduit does not.
    bool hasReports() const {
      return CONDUIT_STRUCT_HAS(api_, conduit_host_api, report) && api_->report != nullptr;
    }

    // Tells the host what process() did for `delivery`, for the delivery log, as a JSON object
    // {"action": action, name: value, ...}, written here with the escaping JSON needs:
    //   host().report(delivery, "moved", {{"issue", "SOC-1"}, {"from", "To Do"}, {"to", "Done"}});
    //   host().report(delivery, "ignored", {{"reason", "pull request closed without merge"}});
    // A member `issue` names the issue concerned. True when the host kept it; false when it
    // refused it (the host logs why: more than 4096 bytes, or past 200 in one process() call)
    // or has no reports (a conduit older than ABI 1.2): reporting never fails process().
    // Only during process() for that delivery.
    bool report(const Delivery& delivery, std::string_view action,
                std::initializer_list<ReportField> fields = {}) const;
    // The same with the JSON object written by the caller: it must hold a string `action` and
    // members that are strings or numbers only.
    bool reportJson(const Delivery& delivery, std::string_view json) const;

    // Whether the host takes claims (ABI 1.4).
    bool hasClaims() const {
      return CONDUIT_STRUCT_HAS(api_, conduit_host_api, claim) && api_->claim != nullptr;
    }

    // The answer of claim(): whether the name is this delivery's and, when not, whose.
    struct Claim {
      bool ours = false;
      std::string owner;  // when not ours: the delivery that claimed it first
    };
    // Claims `name` for `delivery` in this worker, for checkpoint_ttl_hours: the first delivery
    // to claim a name keeps it, and an earlier attempt at the same delivery counts as this one.
    // Claim what must happen once across deliveries before doing it. Throws HostError when
    // Redis cannot be reached or the host has no claims (a conduit older than ABI 1.4).
    Claim claim(const Delivery& delivery, std::string_view name) const;

    const conduit_host_api* api() const { return api_; }
    conduit_host* handle() const { return host_; }

   private:
    const conduit_host_api* api_ = nullptr;
    conduit_host* host_ = nullptr;
  };

  // The delivery being processed, with its checkpoint store: what a retry, or another worker
  // process after a crash, should know was already done.
  class Delivery {
   public:
    Delivery(const Host& host, conduit_delivery* delivery) : host_(host), delivery_(delivery) {}

    // Throws HostError when the store cannot be reached.
    void put(std::string_view key, std::string_view value) {
      if (host_.api()->checkpoint_put(host_.handle(), delivery_, str(key), str(value)) !=
          CONDUIT_STATUS_OK) {
        throw HostError("the checkpoint store could not be written");
      }
    }

    // nullopt when nothing was put under `key`; throws HostError when the store cannot be read.
    std::optional<std::string> get(std::string_view key) const {
      conduit_str value{};
      switch (host_.api()->checkpoint_get(host_.handle(), delivery_, str(key), &value)) {
        case CONDUIT_STATUS_OK:
          return std::string(view(value));
        case CONDUIT_STATUS_NOT_FOUND:
          return std::nullopt;
        default:
          throw HostError("the checkpoint store could not be read");
      }
    }

    // The ABI's handle of the delivery, for the host functions that take one.
    conduit_delivery* handle() const { return delivery_; }

   private:
    const Host& host_;
    conduit_delivery* delivery_;
  };

  inline bool Host::report(const Delivery& delivery, std::string_view action,
                           std::initializer_list<ReportField> fields) const {
    std::string json = "{\"action\":" + ReportField::quoted(action);
    for (const auto& field : fields) {
      json += ',';
      json += ReportField::quoted(field.name());
      json += ':';
      json += field.json();
    }
    json += '}';
    return reportJson(delivery, json);
  }

  inline Host::NextAnswer Host::next(const Delivery& delivery, std::string_view project,
                                     std::string_view status, std::string_view event) const {
    conduit_next answer{};
    answer.struct_size = sizeof answer;
    switch (api_->state_next(host_, delivery.handle(), str(project), str(status), str(event),
                             &answer)) {
      case CONDUIT_STATUS_OK:
        return {Next{answer.end != 0, std::string(view(answer.state_id)),
                     std::string(view(answer.status))},
                {}};
      case CONDUIT_STATUS_NOT_FOUND:
        return {std::nullopt, std::string(view(answer.error))};
      default:
        throw HostError("the state machine query failed");
    }
  }

  inline std::optional<std::vector<std::string>> Host::path(
      const Delivery& delivery, std::string_view project, std::string_view from_status,
      std::string_view to_state) const {
    conduit_path path{};
    path.struct_size = sizeof path;
    switch (api_->state_path(host_, delivery.handle(), str(project), str(from_status),
                             str(to_state), &path)) {
      case CONDUIT_STATUS_OK: {
        std::vector<std::string> events;
        for (size_t i = 0; i < path.event_count; ++i)
          events.emplace_back(view(path.events[i]));
        return events;
      }
      case CONDUIT_STATUS_NOT_FOUND:
        return std::nullopt;
      default:
        throw HostError("the state machine query failed");
    }
  }

  inline Host::Claim Host::claim(const Delivery& delivery, std::string_view name) const {
    if (!hasClaims()) throw HostError("this conduit has no claims (plugin ABI 1.4)");
    conduit_str owner{};
    switch (api_->claim(host_, delivery.handle(), str(name), &owner)) {
      case CONDUIT_STATUS_OK:
        return {true, {}};
      case CONDUIT_STATUS_BUSY:
        return {false, std::string(view(owner))};
      default:
        throw HostError("the claim " + std::string(name) + " could not be made");
    }
  }

  inline bool Host::reportJson(const Delivery& delivery, std::string_view json) const {
    if (!hasReports()) return false;
    return api_->report(host_, delivery.handle(), str(json)) == CONDUIT_STATUS_OK;
  }

  // A worker's configuration: its workers.yaml entry.
  struct Config {
    std::string worker_name;
    std::string worker_json;  // the whole entry as JSON, with the plugin's own keys
    std::vector<std::string> projects;
  };

  // Derive from this, and name the class in CONDUIT_PLUGIN. One object is made per worker, with
  // its default constructor; host() is ready from configure() on, not in the constructor.
  class Processor {
   public:
    virtual ~Processor() = default;

    // Reads the worker's configuration; throw to refuse it (start-up stops with the message).
    virtual void configure(const Config& config) { (void)config; }

    // Handles one event.
    virtual Result process(const Event& event, Delivery& delivery) = 0;

    // The host is stopping; no process() call is running or will come.
    virtual void shutdown() {}

    const Host& host() const { return host_; }

   private:
    template <typename P>
    friend struct PluginGlue;
    Host host_;
  };

  // What CONDUIT_PLUGIN asks of its class, each said plainly when it is missing. A class that
  // fails is replaced by a stand-in for the rest of the glue, so that the compiler's first and
  // only errors are these messages, not pages about the glue's insides.
  template <typename P>
  struct CheckedProcessor {
    static constexpr bool kDerives = std::is_convertible_v<P*, Processor*>;
    static constexpr bool kConcrete = !std::is_abstract_v<P>;
    static constexpr bool kConstructible = std::is_default_constructible_v<P>;
    static_assert(kDerives,
                  "CONDUIT_PLUGIN: the processor class must derive publicly from "
                  "conduit::sdk::Processor");
    static_assert(!kDerives || kConcrete,
                  "CONDUIT_PLUGIN: the processor class is abstract: it must override "
                  "conduit::sdk::Result process(const conduit::sdk::Event&, "
                  "conduit::sdk::Delivery&) (and any other pure virtual function it has)");
    static_assert(!kDerives || !kConcrete || kConstructible,
                  "CONDUIT_PLUGIN: the processor class must be default-constructible: the host "
                  "makes one object per worker with its default constructor (read settings in "
                  "configure())");

    struct StandIn : Processor {
      Result process(const Event&, Delivery&) override { return Result::ok(); }
    };
    using type = std::conditional_t<kDerives && kConcrete && kConstructible, P, StandIn>;
  };

  // The ABI's functions for the Processor class P; CONDUIT_PLUGIN instantiates it.
  template <typename P>
  struct PluginGlue {
    static P& self(conduit_instance* instance) { return *reinterpret_cast<P*>(instance); }

    static void setMessage(conduit_message* message, std::string_view text) noexcept {
      conduit_message_set(message, text.data(), text.size());
    }

    // P::kConfigKeys when the processor declares it, else none.
    template <typename Q>
    static auto keysOf(int) -> decltype(Q::kConfigKeys, static_cast<const char* const*>(nullptr)) {
      return Q::kConfigKeys;
    }
    template <typename Q>
    static const char* const* keysOf(long) {
      return nullptr;
    }
    static const char* const* configKeys() { return keysOf<P>(0); }

    static conduit_instance* create(const conduit_host_api* api, conduit_host* host,
                                    conduit_message* error) noexcept {
      try {
        auto processor = std::make_unique<P>();
        processor->host_ = Host(api, host);
        return reinterpret_cast<conduit_instance*>(processor.release());
      } catch (const std::exception& e) {
        setMessage(error, e.what());
      } catch (...) {
        setMessage(error, "the processor's constructor threw");
      }
      return nullptr;
    }

    static conduit_status configure(conduit_instance* instance, const conduit_config* c,
                                    conduit_message* error) noexcept {
      try {
        Config config{std::string(view(c->worker_name)), std::string(view(c->worker_json)), {}};
        for (size_t i = 0; i < c->project_count; ++i) {
          config.projects.emplace_back(view(c->projects[i]));
        }
        self(instance).configure(config);
        return CONDUIT_STATUS_OK;
      } catch (const std::exception& e) {
        setMessage(error, e.what());
      } catch (...) {
        setMessage(error, "configure threw something that is not a std::exception");
      }
      return CONDUIT_STATUS_ERROR;
    }

    static conduit_outcome process(conduit_instance* instance, const conduit_event* event,
                                   conduit_delivery* delivery, conduit_result* result) noexcept {
      try {
        Delivery handle(self(instance).host(), delivery);
        Result answer = self(instance).process(Event(*event), handle);
        setMessage(&result->message, answer.message);
        // A delay outside what the ABI can say is taken as the nearest it can.
        const auto ms = answer.retry_after.count();
        result->retry_after_ms = ms <= 0            ? 0u
                                 : ms >= UINT32_MAX ? UINT32_MAX
                                                    : static_cast<uint32_t>(ms);
        return answer.outcome;
      } catch (const std::exception& e) {
        setMessage(&result->message, "uncaught exception: ");
        const size_t used = result->message.size;
        conduit_message rest{result->message.data + used, result->message.capacity - used, 0};
        setMessage(&rest, e.what());
        result->message.size += rest.size;
      } catch (...) {
        setMessage(&result->message, "uncaught exception that is not a std::exception");
      }
      result->retry_after_ms = 0;
      return CONDUIT_OUTCOME_RETRY;
    }

    static void shutdown(conduit_instance* instance) noexcept {
      try {
        self(instance).shutdown();
      } catch (...) {
        // Nothing to report to: the host is stopping either way.
      }
    }

    static void destroy(conduit_instance* instance) noexcept { delete &self(instance); }
  };

}  // namespace sdk
}  // namespace conduit

// Writes the plugin's descriptor and its one exported symbol, conduit_plugin_entry_v1.
// NAME must equal the file name without ".so". CAPABILITIES: 0 or CONDUIT_CAPABILITY_*. The
// app-config keys the plugin reads (which conduit then counts as known) are declared in the
// processor class, when it reads any:
//   static constexpr const char* kConfigKeys[] = {"atlassian_domain_url", nullptr};
#define CONDUIT_PLUGIN(PROCESSOR, NAME, VERSION, CAPABILITIES)                                  \
  extern "C" __attribute__((visibility("default"))) const conduit_plugin_descriptor*            \
  conduit_plugin_entry_v1(void) {                                                               \
    using Glue = ::conduit::sdk::PluginGlue<::conduit::sdk::CheckedProcessor<PROCESSOR>::type>; \
    static const conduit_plugin_descriptor descriptor = {sizeof(conduit_plugin_descriptor),     \
                                                         CONDUIT_ABI_MAJOR,                     \
                                                         CONDUIT_ABI_MINOR,                     \
                                                         NAME,                                  \
                                                         VERSION,                               \
                                                         (CAPABILITIES),                        \
                                                         Glue::configKeys(),                    \
                                                         &Glue::create,                         \
                                                         &Glue::configure,                      \
                                                         &Glue::process,                        \
                                                         &Glue::shutdown,                       \
                                                         &Glue::destroy};                       \
    return &descriptor;                                                                         \
  }
