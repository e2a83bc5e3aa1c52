#pragma once

#include <conduit/plugin.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "logging/log_context.hpp"
#include "plugin/checkpoint_store.hpp"
#include "plugin/claim_store.hpp"
#include "plugin/lease_store.hpp"
#include "statemachine/state_machine.hpp"

namespace conduit::plugin {

// The host side of the plugin API for one plugin instance (one worker): what its calls to the
// conduit_host_api reach. Thread-safe, as the ABI promises.
class PluginHost {
 public:
  struct Context {
    std::string worker;  // the workers.yaml entry, for log lines and checkpoint keys
    std::string plugin;  // the plugin's name, for log lines
    // The declared app-config keys that are set, resolved at start-up.
    std::map<std::string, std::string, std::less<>> config;
    // The state machines in force; called once per delivery, so that a reload (SIGHUP) takes
    // effect between deliveries, never within one.
    std::function<std::shared_ptr<const statemachine::StateMachines>()> machines;
    CheckpointStore* checkpoints = nullptr;  // not owned
    LeaseStore* leases = nullptr;            // not owned; none: lease_acquire answers ERROR
    ClaimStore* claims = nullptr;            // not owned; none: claim answers ERROR
  };

  // One delivery being processed: handed to the plugin as its conduit_delivery*. What the host
  // answers during process() lives here, valid until the scope ends, as the ABI promises.
  // Thread-safe: the plugin may call the host for this delivery from threads of its own (ABI
  // 1.4). While a scope of this host is open, a process() call of the instance is running: that
  // is when the leases may be taken from any thread.
  class DeliveryScope {
   public:
    // `identity`: CheckpointStore::deliveryIdentity(), under which its checkpoints are kept.
    DeliveryScope(PluginHost& host, std::string identity);
    ~DeliveryScope();
    DeliveryScope(const DeliveryScope&) = delete;
    DeliveryScope& operator=(const DeliveryScope&) = delete;

    // An opaque number, never a pointer to the scope: each scope's is new (a 64-bit count), so
    // a handle kept past its process() never names a later delivery's scope, even one built at
    // the same address.
    conduit_delivery* handle() const {
      return reinterpret_cast<conduit_delivery*>(static_cast<uintptr_t>(serial_));
    }
    const std::string& identity() const { return identity_; }

    // What the plugin reported (`report`, ABI 1.2) during the scope, in order, each a compact
    // JSON object; the scope keeps none afterwards.
    std::vector<std::string> takeActions();

   private:
    friend class PluginHost;
    // Keep what the host answers until the scope ends; from any thread of the plugin's.
    conduit_str keep(std::string text);
    const std::vector<conduit_str>& keepList(std::vector<conduit_str> list);

    PluginHost& host_;
    const uint64_t serial_;
    std::string identity_;
    std::shared_ptr<const statemachine::StateMachines> machines_;  // pinned for the delivery
    std::mutex kept_mutex_;  // the answers below may be asked for from any thread (ABI 1.4)
    std::deque<std::string> strings_;
    std::deque<std::vector<conduit_str>> lists_;
    // Leases taken on the thread running process() and not released yet: (name, token). The
    // scope releases them when it ends, so that a plugin that forgets (or whose process() threw)
    // holds none. A lease taken on a thread of the plugin's own is not here: it is the plugin's.
    // A lease released from any thread leaves the list.
    std::mutex leases_mutex_;
    std::vector<std::pair<std::string, std::string>> leases_;
    // Reports may come from any thread of the plugin while process() runs: their own lock.
    std::mutex actions_mutex_;
    std::vector<std::string> actions_;
    int refused_reports_ = 0;  // a refusal is logged once per scope, with why
    DeliveryScope* outer_;     // the thread's scope before this one
    // The worker, for every line written during process().
    logging::LogScope log_scope_;
  };

  explicit PluginHost(Context context);
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // The function table for a plugin built for ABI 1.`abi_minor`, for its create(): before 1.4,
  // state_next and state_path have their old shape (no delivery), as that plugin calls them.
  static const conduit_host_api* api(uint16_t abi_minor = CONDUIT_ABI_MINOR);
  // This instance's handle, for the plugin's create().
  conduit_host* handle() { return reinterpret_cast<conduit_host*>(this); }

  // What `report` accepts (ABI 1.2): the limits the header states.
  static constexpr size_t kMaxActionBytes = 4096;
  static constexpr size_t kMaxActionsPerCall = 200;

  // The action `json` in the compact form the delivery log keeps, or why it is refused: a JSON
  // object of at most kMaxActionBytes with a non-empty string `action`, its other members
  // strings or numbers, no name twice.
  struct CheckedAction {
    std::string json;   // when accepted
    std::string error;  // otherwise
  };
  static CheckedAction checkAction(std::string_view json);

  // The counters the plugin has counted, by metric.
  std::map<std::string, int64_t> counters() const;

 private:
  static PluginHost& self(conduit_host* host) { return *reinterpret_cast<PluginHost*>(host); }
  // The scope of the delivery this thread is processing for this host, or nullptr.
  DeliveryScope* currentScope();
  // Whether a scope of this host is open: a process() call of the instance is running.
  bool processing();

  static void log(conduit_host* host, conduit_log_level level, conduit_str message);
  static void count(conduit_host* host, conduit_str metric, int64_t delta);
  static conduit_status configGet(conduit_host* host, conduit_str key, conduit_str* value);
  static conduit_status stateNext(conduit_host* host, conduit_delivery* delivery,
                                  conduit_str project, conduit_str status, conduit_str event,
                                  conduit_next* answer);
  static conduit_status statePath(conduit_host* host, conduit_delivery* delivery,
                                  conduit_str project, conduit_str from, conduit_str to,
                                  conduit_path* path);
  // ABI 1.0 to 1.3: the delivery is the one this thread is processing.
  static conduit_status stateNextOnThread(conduit_host* host, conduit_str project,
                                          conduit_str status, conduit_str event,
                                          conduit_next* answer);
  static conduit_status statePathOnThread(conduit_host* host, conduit_str project, conduit_str from,
                                          conduit_str to, conduit_path* path);
  // The scope `delivery` names, when it is one of this host's still open; else nullptr (a
  // plugin that kept the handle past process() gets ERROR, not a dangling scope).
  DeliveryScope* scopeOf(conduit_delivery* delivery);
  static conduit_status checkpointPut(conduit_host* host, conduit_delivery* delivery,
                                      conduit_str key, conduit_str value);
  static conduit_status checkpointGet(conduit_host* host, conduit_delivery* delivery,
                                      conduit_str key, conduit_str* value);
  static conduit_status leaseAcquire(conduit_host* host, conduit_str name, uint32_t ttl_ms,
                                     uint32_t wait_ms, conduit_str* token);
  static conduit_status leaseExtend(conduit_host* host, conduit_str name, conduit_str token,
                                    uint32_t ttl_ms);
  static conduit_status leaseRelease(conduit_host* host, conduit_str name, conduit_str token);
  static conduit_status report(conduit_host* host, conduit_delivery* delivery, conduit_str action);
  static conduit_status claim(conduit_host* host, conduit_delivery* delivery, conduit_str name,
                              conduit_str* owner);

  Context context_;
  // The scopes open now, one per process() call running: how the host knows, on any thread,
  // that the instance is processing (leases) and which delivery handles are live.
  std::mutex scopes_mutex_;
  std::vector<DeliveryScope*> open_scopes_;
  mutable std::mutex counters_mutex_;
  std::map<std::string, int64_t> counters_;
};

}  // namespace conduit::plugin
