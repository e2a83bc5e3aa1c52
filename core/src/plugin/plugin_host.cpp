#include "plugin/plugin_host.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

namespace conduit::plugin {
namespace {

std::string_view view(conduit_str s) {
  return s.size == 0 ? std::string_view() : std::string_view(s.data, s.size);
}

conduit_str str(std::string_view s) {
  return conduit_str{s.data(), s.size()};
}

// The delivery scope of each thread (innermost), so that answers given during process() can be
// kept until it returns.
thread_local PluginHost::DeliveryScope* t_scope = nullptr;

// The token of the last lease taken on this thread outside any scope of its own (a thread the
// plugin started during process()): plugin.h says it is valid until the thread's next
// lease_acquire. No scope can keep it: the host does not know which process() call the thread
// works for.
conduit_str keepOnThread(std::string token) {
  thread_local std::string t_token;
  t_token = std::move(token);
  return str(t_token);
}

}  // namespace

namespace {
// The serial numbers of delivery scopes, from 1: a handle is never NULL.
std::atomic<uint64_t> g_next_scope_serial{1};
}  // namespace

PluginHost::DeliveryScope::DeliveryScope(PluginHost& host, std::string identity)
    : host_(host),
      serial_(g_next_scope_serial.fetch_add(1, std::memory_order_relaxed)),
      identity_(std::move(identity)),
      outer_(t_scope) {
  log_scope_.worker(host_.context_.worker);
  if (host_.context_.machines) machines_ = host_.context_.machines();
  t_scope = this;
  std::lock_guard lock(host_.scopes_mutex_);
  host_.open_scopes_.push_back(this);
}

PluginHost::DeliveryScope::~DeliveryScope() {
  t_scope = outer_;
  {
    // Closed first: from here on no thread finds this scope, nor adds to or takes from leases_.
    std::lock_guard lock(host_.scopes_mutex_);
    auto& open = host_.open_scopes_;
    open.erase(std::remove(open.begin(), open.end(), this), open.end());
  }
  std::vector<std::pair<std::string, std::string>> held;
  {
    std::lock_guard lock(leases_mutex_);
    held.swap(leases_);
  }
  for (const auto& [name, token] : held) {
    try {
      if (host_.context_.leases != nullptr) {
        host_.context_.leases->release(host_.context_.worker, name, token);
      }
    } catch (const std::exception& e) {
      spdlog::warn("{} ({}): lease {} not released (it ends at its expiry): {}",
                   host_.context_.worker, host_.context_.plugin, name, e.what());
    }
  }
}

std::vector<std::string> PluginHost::DeliveryScope::takeActions() {
  std::lock_guard lock(actions_mutex_);
  return std::exchange(actions_, {});
}

conduit_str PluginHost::DeliveryScope::keep(std::string text) {
  std::lock_guard lock(kept_mutex_);
  return str(strings_.emplace_back(std::move(text)));
}

const std::vector<conduit_str>& PluginHost::DeliveryScope::keepList(std::vector<conduit_str> list) {
  std::lock_guard lock(kept_mutex_);
  return lists_.emplace_back(std::move(list));
}

PluginHost::PluginHost(Context context) : context_(std::move(context)) {}

PluginHost::DeliveryScope* PluginHost::currentScope() {
  for (DeliveryScope* scope = t_scope; scope != nullptr; scope = scope->outer_) {
    if (&scope->host_ == this) return scope;
  }
  return nullptr;
}

bool PluginHost::processing() {
  std::lock_guard lock(scopes_mutex_);
  return !open_scopes_.empty();
}

const conduit_host_api* PluginHost::api(uint16_t abi_minor) {
  static const conduit_host_api table = {
      sizeof(conduit_host_api),   &PluginHost::log,           &PluginHost::count,
      &PluginHost::configGet,     &PluginHost::stateNext,     &PluginHost::statePath,
      &PluginHost::checkpointPut, &PluginHost::checkpointGet, &PluginHost::leaseAcquire,
      &PluginHost::leaseExtend,   &PluginHost::leaseRelease,  &PluginHost::report,
      &PluginHost::claim};
  // The same functions, but for the two slots whose shape 1.4 changed: a plugin built before
  // calls them as 1.0 declared them. The casts (through void(*)(), the generic function
  // pointer) only give each slot the type the plugin's own header has for it: each function is
  // called through the type it was defined with.
  static const conduit_host_api before_1_4 = [] {
    using Generic = void (*)();
    conduit_host_api legacy = table;
    legacy.state_next = reinterpret_cast<decltype(legacy.state_next)>(reinterpret_cast<Generic>(
        static_cast<conduit_state_next_1_0_fn>(&PluginHost::stateNextOnThread)));
    legacy.state_path = reinterpret_cast<decltype(legacy.state_path)>(reinterpret_cast<Generic>(
        static_cast<conduit_state_path_1_0_fn>(&PluginHost::statePathOnThread)));
    // Their table ends where 1.3's did: claim is 1.4's, and such a plugin does not know it.
    legacy.struct_size = static_cast<uint32_t>(offsetof(conduit_host_api, claim));
    legacy.claim = nullptr;
    return legacy;
  }();
  return abi_minor < 4 ? &before_1_4 : &table;
}

std::map<std::string, int64_t> PluginHost::counters() const {
  std::lock_guard lock(counters_mutex_);
  return counters_;
}

void PluginHost::log(conduit_host* host, conduit_log_level level, conduit_str message) {
  auto& me = self(host);
  const auto spd = level == CONDUIT_LOG_DEBUG  ? spdlog::level::debug
                   : level == CONDUIT_LOG_INFO ? spdlog::level::info
                   : level == CONDUIT_LOG_WARN ? spdlog::level::warn
                                               : spdlog::level::err;
  // The Jira plugin names the issue a line is about first: the JSON log gets it as `issue`.
  logging::LogScope line;
  line.worker(me.context_.worker);
  if (auto key = logging::leadingIssueKey(view(message)); !key.empty()) line.issue(key);
  spdlog::log(spd, "{} ({}): {}", me.context_.worker, me.context_.plugin, view(message));
}

void PluginHost::count(conduit_host* host, conduit_str metric, int64_t delta) {
  auto& me = self(host);
  std::lock_guard lock(me.counters_mutex_);
  me.counters_[std::string(view(metric))] += delta;
}

conduit_status PluginHost::configGet(conduit_host* host, conduit_str key, conduit_str* value) {
  auto& me = self(host);
  auto it = me.context_.config.find(view(key));
  if (it == me.context_.config.end()) return CONDUIT_STATUS_NOT_FOUND;
  *value = str(it->second);  // lives as long as the host
  return CONDUIT_STATUS_OK;
}

PluginHost::DeliveryScope* PluginHost::scopeOf(conduit_delivery* delivery) {
  if (delivery == nullptr) return nullptr;
  std::lock_guard lock(scopes_mutex_);
  for (DeliveryScope* scope : open_scopes_) {
    if (scope->handle() == delivery) return scope;
  }
  return nullptr;
}

conduit_status PluginHost::stateNext(conduit_host* host, conduit_delivery* delivery,
                                     conduit_str project, conduit_str status, conduit_str event,
                                     conduit_next* answer) {
  DeliveryScope* scope = self(host).scopeOf(delivery);
  if (scope == nullptr || !scope->machines_) return CONDUIT_STATUS_ERROR;  // only in process()
  auto result = scope->machines_->next(view(project), view(status), view(event));
  if (!result.next) {
    if (CONDUIT_STRUCT_HAS(answer, conduit_next, error)) {
      answer->error = scope->keep(std::move(result.error));
    }
    return CONDUIT_STATUS_NOT_FOUND;
  }
  // The views point into the state machines, which the scope keeps alive.
  if (CONDUIT_STRUCT_HAS(answer, conduit_next, status)) {
    answer->end = result.next->end ? 1 : 0;
    answer->state_id = str(result.next->state_id);
    answer->status = str(result.next->status);
  }
  return CONDUIT_STATUS_OK;
}

conduit_status PluginHost::statePath(conduit_host* host, conduit_delivery* delivery,
                                     conduit_str project, conduit_str from, conduit_str to,
                                     conduit_path* path) {
  DeliveryScope* scope = self(host).scopeOf(delivery);
  if (scope == nullptr || !scope->machines_) return CONDUIT_STATUS_ERROR;
  const auto* machine = scope->machines_->find(view(project));
  if (machine == nullptr) return CONDUIT_STATUS_NOT_FOUND;
  auto events = machine->path(view(from), view(to));
  if (!events) return CONDUIT_STATUS_NOT_FOUND;
  std::vector<conduit_str> kept;
  for (auto& event : *events)
    kept.push_back(scope->keep(std::move(event)));
  auto& views = scope->keepList(std::move(kept));
  if (CONDUIT_STRUCT_HAS(path, conduit_path, event_count)) {
    path->events = views.data();
    path->event_count = views.size();
  }
  return CONDUIT_STATUS_OK;
}

conduit_status PluginHost::stateNextOnThread(conduit_host* host, conduit_str project,
                                             conduit_str status, conduit_str event,
                                             conduit_next* answer) {
  DeliveryScope* scope = self(host).currentScope();
  if (scope == nullptr) return CONDUIT_STATUS_ERROR;
  return stateNext(host, scope->handle(), project, status, event, answer);
}

conduit_status PluginHost::statePathOnThread(conduit_host* host, conduit_str project,
                                             conduit_str from, conduit_str to, conduit_path* path) {
  DeliveryScope* scope = self(host).currentScope();
  if (scope == nullptr) return CONDUIT_STATUS_ERROR;
  return statePath(host, scope->handle(), project, from, to, path);
}

conduit_status PluginHost::checkpointPut(conduit_host* host, conduit_delivery* delivery,
                                         conduit_str key, conduit_str value) {
  auto& me = self(host);
  DeliveryScope* scope = me.scopeOf(delivery);
  if (scope == nullptr || me.context_.checkpoints == nullptr) return CONDUIT_STATUS_ERROR;
  try {
    me.context_.checkpoints->put(scope->identity(), me.context_.worker, view(key), view(value));
    return CONDUIT_STATUS_OK;
  } catch (const std::exception& e) {
    spdlog::warn("{} ({}): checkpoint not kept: {}", me.context_.worker, me.context_.plugin,
                 e.what());
    return CONDUIT_STATUS_ERROR;
  }
}

conduit_status PluginHost::checkpointGet(conduit_host* host, conduit_delivery* delivery,
                                         conduit_str key, conduit_str* value) {
  auto& me = self(host);
  DeliveryScope* scope = me.scopeOf(delivery);
  if (scope == nullptr || me.context_.checkpoints == nullptr) return CONDUIT_STATUS_ERROR;
  try {
    auto found = me.context_.checkpoints->get(scope->identity(), me.context_.worker, view(key));
    if (!found) return CONDUIT_STATUS_NOT_FOUND;
    *value = scope->keep(std::move(*found));
    return CONDUIT_STATUS_OK;
  } catch (const std::exception& e) {
    spdlog::warn("{} ({}): checkpoint not read: {}", me.context_.worker, me.context_.plugin,
                 e.what());
    return CONDUIT_STATUS_ERROR;
  }
}

}  // namespace conduit::plugin

namespace conduit::plugin {

conduit_status PluginHost::leaseAcquire(conduit_host* host, conduit_str name, uint32_t ttl_ms,
                                        uint32_t wait_ms, conduit_str* token) {
  auto& me = self(host);
  // On the thread running process(), the lease is that call's: released when it returns. On a
  // thread of the plugin's own, during a process() call of the instance (ABI 1.4), it is the
  // plugin's to release.
  DeliveryScope* scope = me.currentScope();
  if ((scope == nullptr && !me.processing()) || me.context_.leases == nullptr || token == nullptr) {
    spdlog::warn("{} ({}): lease_acquire outside a process() call: refused", me.context_.worker,
                 me.context_.plugin);
    return CONDUIT_STATUS_ERROR;
  }
  try {
    auto taken = me.context_.leases->acquire(me.context_.worker, view(name),
                                             std::chrono::milliseconds(ttl_ms),
                                             std::chrono::milliseconds(wait_ms));
    if (!taken) return CONDUIT_STATUS_BUSY;
    if (scope != nullptr) {
      {
        std::lock_guard lock(scope->leases_mutex_);
        scope->leases_.emplace_back(std::string(view(name)), *taken);
      }
      *token = scope->keep(std::move(*taken));
    } else {
      *token = keepOnThread(std::move(*taken));
    }
    return CONDUIT_STATUS_OK;
  } catch (const std::exception& e) {
    spdlog::warn("{} ({}): lease {} not taken: {}", me.context_.worker, me.context_.plugin,
                 view(name).substr(0, 100), e.what());
    return CONDUIT_STATUS_ERROR;
  }
}

conduit_status PluginHost::leaseExtend(conduit_host* host, conduit_str name, conduit_str token,
                                       uint32_t ttl_ms) {
  auto& me = self(host);
  if (me.context_.leases == nullptr) return CONDUIT_STATUS_ERROR;
  try {
    if (!me.context_.leases->extend(me.context_.worker, view(name), view(token),
                                    std::chrono::milliseconds(ttl_ms))) {
      return CONDUIT_STATUS_NOT_FOUND;
    }
    // A lease taken back from an earlier attempt on the thread running process() is released
    // with the scope, as one taken now.
    if (DeliveryScope* scope = me.currentScope()) {
      std::lock_guard lock(scope->leases_mutex_);
      auto& held = scope->leases_;
      const bool known = std::any_of(held.begin(), held.end(), [&](const auto& lease) {
        return lease.first == view(name) && lease.second == view(token);
      });
      if (!known) held.emplace_back(std::string(view(name)), std::string(view(token)));
    }
    return CONDUIT_STATUS_OK;
  } catch (const std::exception& e) {
    spdlog::warn("{} ({}): lease {} not extended: {}", me.context_.worker, me.context_.plugin,
                 view(name).substr(0, 100), e.what());
    return CONDUIT_STATUS_ERROR;
  }
}

conduit_status PluginHost::leaseRelease(conduit_host* host, conduit_str name, conduit_str token) {
  auto& me = self(host);
  if (me.context_.leases == nullptr) return CONDUIT_STATUS_ERROR;
  {
    // From whichever thread: a lease a scope would release is released now, and no longer its.
    std::lock_guard scopes(me.scopes_mutex_);
    for (DeliveryScope* scope : me.open_scopes_) {
      std::lock_guard lock(scope->leases_mutex_);
      auto& held = scope->leases_;
      held.erase(std::remove_if(held.begin(), held.end(),
                                [&](const auto& lease) {
                                  return lease.first == view(name) && lease.second == view(token);
                                }),
                 held.end());
    }
  }
  try {
    return me.context_.leases->release(me.context_.worker, view(name), view(token))
               ? CONDUIT_STATUS_OK
               : CONDUIT_STATUS_NOT_FOUND;
  } catch (const std::exception& e) {
    spdlog::warn("{} ({}): lease {} not released (it ends at its expiry): {}", me.context_.worker,
                 me.context_.plugin, view(name), e.what());
    return CONDUIT_STATUS_ERROR;
  }
}

conduit_status PluginHost::claim(conduit_host* host, conduit_delivery* delivery, conduit_str name,
                                 conduit_str* owner) {
  auto& me = self(host);
  DeliveryScope* scope = me.scopeOf(delivery);
  if (scope == nullptr) {
    spdlog::warn("{} ({}): claim outside process() or for another instance's delivery: refused",
                 me.context_.worker, me.context_.plugin);
    return CONDUIT_STATUS_ERROR;
  }
  if (me.context_.claims == nullptr) {
    spdlog::warn("{} ({}): claim refused: this worker has no claim store", me.context_.worker,
                 me.context_.plugin);
    return CONDUIT_STATUS_ERROR;
  }
  try {
    auto found = me.context_.claims->claim(me.context_.worker, view(name), scope->identity());
    if (found.ours) return CONDUIT_STATUS_OK;
    if (owner != nullptr) *owner = scope->keep(std::move(found.owner));
    return CONDUIT_STATUS_BUSY;
  } catch (const std::exception& e) {
    spdlog::warn("{} ({}): claim {} not made: {}", me.context_.worker, me.context_.plugin,
                 view(name).substr(0, 100), e.what());
    return CONDUIT_STATUS_ERROR;
  }
}

}  // namespace conduit::plugin

namespace conduit::plugin {

PluginHost::CheckedAction PluginHost::checkAction(std::string_view json) {
  if (json.size() > kMaxActionBytes) {
    return {{}, fmt::format("{} bytes, more than {}", json.size(), kMaxActionBytes)};
  }
  rapidjson::Document doc;
  // Iterative: a deeply nested value is refused below, without deep recursion first.
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(),
                                                                                    json.size());
  if (doc.HasParseError()) {
    return {{},
            fmt::format("not JSON ({} at byte {})",
                        rapidjson::GetParseError_En(doc.GetParseError()), doc.GetErrorOffset())};
  }
  if (!doc.IsObject()) return {{}, "not a JSON object"};
  std::set<std::string_view> names;
  for (const auto& member : doc.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (!names.insert(name).second) return {{}, fmt::format("the member `{}` twice", name)};
    if (!member.value.IsString() && !member.value.IsNumber()) {
      return {{}, fmt::format("the member `{}` is neither a string nor a number", name)};
    }
  }
  const auto action = doc.FindMember("action");
  if (action == doc.MemberEnd() || !action->value.IsString() ||
      action->value.GetStringLength() == 0) {
    return {{}, "no string member `action` naming what was done"};
  }
  rapidjson::StringBuffer compact;
  rapidjson::Writer<rapidjson::StringBuffer> writer(compact);
  doc.Accept(writer);
  return {std::string(compact.GetString(), compact.GetSize()), {}};
}

conduit_status PluginHost::report(conduit_host* host, conduit_delivery* delivery,
                                  conduit_str action) {
  auto& me = self(host);
  DeliveryScope* scope = me.scopeOf(delivery);
  if (scope == nullptr) {
    spdlog::warn("{} ({}): report outside process() or for another instance's delivery: refused",
                 me.context_.worker, me.context_.plugin);
    return CONDUIT_STATUS_ERROR;
  }
  const std::string_view text = view(action);
  auto checked = checkAction(text);
  std::lock_guard lock(scope->actions_mutex_);
  if (checked.error.empty() && scope->actions_.size() >= kMaxActionsPerCall) {
    checked.error = fmt::format("more than {} in one process() call", kMaxActionsPerCall);
  }
  if (!checked.error.empty()) {
    // Once per call: a plugin that reports in a loop must not flood the log.
    if (scope->refused_reports_++ == 0) {
      // Not the action itself: it may quote a pull request's title, and a log line is no place
      // for what anyone on the code host can write.
      spdlog::warn(
          "{} ({}): a reported action was refused: {}; it is not in the delivery log (further "
          "refusals during this call are not logged)",
          me.context_.worker, me.context_.plugin, checked.error);
    }
    return CONDUIT_STATUS_ERROR;
  }
  scope->actions_.push_back(std::move(checked.json));
  return CONDUIT_STATUS_OK;
}

}  // namespace conduit::plugin
