#include "plugin/plugin_instance.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include <fmt/format.h>

namespace conduit::plugin {
namespace {

// How much of a plugin's message the host keeps: enough for a list of Jira transitions.
constexpr size_t kMessageCapacity = 4096;

conduit_str str(std::string_view s) {
  return conduit_str{s.data(), s.size()};
}

// The plugin's message, never past the buffer whatever size it claims.
std::string text(const conduit_message& message) {
  return std::string(message.data, std::min(message.size, message.capacity));
}

}  // namespace

PluginInstance::PluginInstance(std::shared_ptr<SharedPlugin> plugin,
                               const config::WorkerEntry& worker, PluginHost::Context context)
    : plugin_(std::move(plugin)), worker_(worker.name), host_(std::move(context)) {
  const auto& descriptor = plugin_->descriptor();
  std::array<char, kMessageCapacity> buffer{};
  conduit_message error{buffer.data(), buffer.size(), 0};
  auto refuse = [&](std::string_view step) {
    return PluginLoadError(fmt::format("worker `{}`: plugin {} refused to {}: {}", worker_,
                                       plugin_->path(), step,
                                       error.size > 0 ? text(error) : "it gave no reason"));
  };

  std::lock_guard lock(plugin_->calls());
  instance_ = descriptor.create(PluginHost::api(descriptor.abi_minor), host_.handle(), &error);
  if (instance_ == nullptr) throw refuse("create an instance");
  if (descriptor.configure != nullptr) {
    std::vector<conduit_str> projects;
    for (const auto& project : worker.projects)
      projects.push_back(str(project));
    conduit_config config{sizeof(conduit_config), str(worker.name), str(worker.settings_json),
                          projects.data(), projects.size()};
    if (descriptor.configure(instance_, &config, &error) != CONDUIT_STATUS_OK) {
      auto refusal = refuse("take the worker's configuration");
      descriptor.destroy(instance_);
      throw refusal;
    }
  }
}

PluginInstance::~PluginInstance() {
  std::lock_guard lock(plugin_->calls());
  plugin_->descriptor().destroy(instance_);
}

void PluginInstance::shutdown() {
  if (plugin_->descriptor().shutdown == nullptr) return;
  std::lock_guard lock(plugin_->calls());
  plugin_->descriptor().shutdown(instance_);
}

ProcessOutcome PluginInstance::process(const providers::Event& event, const DeliveryFacts& facts) {
  // The commits as the ABI's parallel arrays: one per field, each as long as the others.
  std::vector<conduit_str> commit_messages, commit_ids, commit_urls, commit_authors;
  for (auto* column : {&commit_messages, &commit_ids, &commit_urls, &commit_authors})
    column->reserve(event.commits.size());
  for (const auto& commit : event.commits) {
    commit_messages.push_back(str(commit.message));
    commit_ids.push_back(str(commit.id));
    commit_urls.push_back(str(commit.url));
    commit_authors.push_back(str(commit.author));
  }

  conduit_event view{};
  view.struct_size = sizeof view;
  view.attempt = facts.attempt;
  view.provider = str(facts.provider);
  view.repo_id = str(facts.repo_id);
  view.repo_path = str(facts.repo_path);
  view.kind = str(event.kind);
  view.delivery_id = str(facts.delivery_id);
  view.title = str(event.title);
  view.body = str(event.body);
  view.branch = str(event.branch);
  view.commit_messages = commit_messages.data();
  view.commit_message_count = commit_messages.size();
  view.release_name = str(event.release_name);
  view.release_body = str(event.release_body);
  view.url = str(event.url);
  view.author = str(event.author);
  view.raw_json = str(facts.payload);
  view.host_name = str(event.host);
  view.repository = str(event.repository);
  view.number = str(event.number);
  view.reference = str(event.reference);
  view.target_branch = str(event.target_branch);
  view.tag = str(event.tag);
  view.released_at = str(event.released_at);
  view.commit_ids = commit_ids.data();
  view.commit_urls = commit_urls.data();
  view.commit_authors = commit_authors.data();

  std::array<char, kMessageCapacity> buffer{};
  conduit_result result{sizeof(conduit_result), 0, {buffer.data(), buffer.size(), 0}};
  PluginHost::DeliveryScope scope(
      host_, CheckpointStore::deliveryIdentity(facts.provider, facts.repo_id, facts.delivery_id,
                                               facts.entry_id));
  conduit_outcome outcome;
  {
    std::unique_lock<std::mutex> serial;
    if (!plugin_->threadSafe()) serial = std::unique_lock(plugin_->calls());
    outcome = plugin_->descriptor().process(instance_, &view, scope.handle(), &result);
  }

  ProcessOutcome answer;
  switch (outcome) {
    case CONDUIT_OUTCOME_OK:
      answer.kind = ProcessOutcome::Kind::kOk;
      break;
    case CONDUIT_OUTCOME_RETRY:
      answer.kind = ProcessOutcome::Kind::kRetry;
      answer.retry_after = std::chrono::milliseconds(result.retry_after_ms);
      answer.message = text(result.message);
      break;
    case CONDUIT_OUTCOME_FAILED:
      answer.kind = ProcessOutcome::Kind::kFailed;
      answer.message = text(result.message);
      break;
    default:
      // Not an outcome of this ABI: most likely a bug in the plugin; worth another try.
      answer.kind = ProcessOutcome::Kind::kRetry;
      answer.message =
          fmt::format("the plugin answered an unknown outcome ({})", static_cast<int>(outcome));
      break;
  }
  // Kept whatever the outcome: a retry may have done part of its work, and says so.
  answer.actions = scope.takeActions();
  if (answer.kind != ProcessOutcome::Kind::kOk && answer.message.empty()) {
    answer.message = "the plugin gave no reason";
  }
  return answer;
}

}  // namespace conduit::plugin
