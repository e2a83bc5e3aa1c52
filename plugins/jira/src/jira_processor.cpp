#include "jira_processor.hpp"

#include <algorithm>
#include <cctype>

#include "issue_keys.hpp"

namespace conduit::jira {
namespace {

// Checkpoint keys, per issue key, kept by the host for the delivery across retries and crashes.
std::string targetCheckpoint(const std::string& key) {
  return "target:" + key;  // the status the issue is being moved to, written before the POST
}
std::string doneCheckpoint(const std::string& key) {
  return "done:" + key;  // the issue is where this delivery takes it
}
std::string commentedCheckpoint(const std::string& key) {
  return "commented:" + key;
}
std::string failedCheckpoint(const std::string& key) {
  return "failed:" + key;  // failed for good: not tried again on a retry for another key
}
std::string fromCheckpoint(const std::string& key) {
  return "from:" + key;  // the status the issue was moved from, written with the target
}

// A message kept in a checkpoint: the host keeps values of at most 4096 bytes.
std::string forCheckpoint(std::string message) {
  constexpr size_t kMax = 1024;
  if (message.size() > kMax) message = message.substr(0, kMax) + "...";
  return message;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The texts of an event that may name issues.
std::vector<std::string_view> textsOf(const sdk::Event& event) {
  const std::string_view kind = event.kind();
  if (startsWith(kind, "release.")) return {event.releaseName(), event.releaseBody()};
  if (kind == "push") return event.commitMessages();
  return {event.title(), event.body(), event.branch()};
}

// "Start work -> In Progress, Stop work -> To Do"
std::string describe(const std::vector<Transition>& transitions) {
  if (transitions.empty()) return "none";
  std::string text;
  for (const auto& t : transitions)
    text += (text.empty() ? "" : ", ") + t.name + " -> " + t.to;
  return text;
}

// The transition to take to reach `target`: the one leading there (its `to` status), else one
// named like it. Workflows often name transitions otherwise than their statuses ("Start work"
// leads to "In Progress").
const Transition* pickTransition(const std::vector<Transition>& transitions,
                                 std::string_view target) {
  for (const auto& t : transitions) {
    if (equalsIgnoringCase(t.to, target)) return &t;
  }
  for (const auto& t : transitions) {
    if (equalsIgnoringCase(t.name, target)) return &t;
  }
  return nullptr;
}

std::string what(const sdk::Event& event) {
  const std::string_view kind = event.kind();
  const std::string author = event.author().empty() ? "someone" : std::string(event.author());
  const std::string link = event.url().empty() ? "" : " (" + std::string(event.url()) + ")";
  if (startsWith(kind, "pull_request.")) {
    return "pull request \"" + std::string(event.title()) + "\"" + link +
           (kind == "pull_request.merged" ? " was merged by " : " by ") + author;
  }
  if (startsWith(kind, "release.")) {
    return "release " + std::string(event.releaseName()) + link + " was published by " + author;
  }
  if (kind == "push") {
    return "commits pushed to " + std::string(event.branch()) + link + " by " + author;
  }
  return std::string(kind) + link;
}

}  // namespace

void JiraProcessor::configure(const sdk::Config& config) {
  worker_ = config.worker_name;
  std::set<std::string> projects;
  for (std::string project : config.projects) {
    std::transform(project.begin(), project.end(), project.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    projects.insert(project);
  }
  settings_ = readSettings(config.worker_json, projects,
                           [this](std::string_view key) { return host().config(key); });
  client_ =
      std::make_unique<JiraClient>(settings_.address, settings_.credentials, settings_.timeout);
  host().info("Jira at " + settings_.address.scheme_host_port + settings_.address.base_path +
              " as " + settings_.credentials.who + (settings_.dry_run ? " (dry run)" : ""));
}

sdk::Result JiraProcessor::process(const sdk::Event& event, sdk::Delivery& delivery) {
  const auto trigger = settings_.triggers.find(std::string(event.kind()));
  if (trigger == settings_.triggers.end()) return sdk::Result::ok();  // not for this worker
  const auto keys = findIssueKeys(textsOf(event), settings_.projects);
  if (keys.empty()) {
    host().debug(std::string(event.kind()) + " " + std::string(event.deliveryId()) +
                 " names no issue of this worker's projects");
    return sdk::Result::ok();
  }

  std::vector<std::string> failures, retries;
  std::chrono::milliseconds retry_after{0};
  for (const auto& key : keys) {
    const KeyOutcome outcome = moveIssue(key, trigger->second, event, delivery);
    switch (outcome.kind) {
      case KeyOutcome::Kind::kDone:
        break;
      case KeyOutcome::Kind::kCredentialsRefused:
        // Every other call would be refused the same way: stop here, and do not retry.
        host().error("Jira refused the credentials of " + settings_.credentials.who + ": " +
                     outcome.message + "; check atlassian_email and atlassian_api_key (or " +
                     "atlassian_pat) and the account's permissions");
        host().count("jira.credentials_refused");
        return sdk::Result::failed(outcome.message);
      case KeyOutcome::Kind::kFailed:
        failures.push_back(outcome.message);
        break;
      case KeyOutcome::Kind::kRetry:
        retries.push_back(outcome.message);
        retry_after = std::max(retry_after, outcome.retry_after);
        break;
    }
  }
  auto join = [](const std::vector<std::string>& parts) {
    std::string text;
    for (const auto& part : parts)
      text += (text.empty() ? "" : "; ") + part;
    return text;
  };
  // Keys that failed for good are kept in the checkpoints: the retry tries only the others,
  // and the final answer still names them.
  if (!retries.empty()) return sdk::Result::retry(join(retries), retry_after);
  if (!failures.empty()) return sdk::Result::failed(join(failures));
  return sdk::Result::ok();
}

JiraProcessor::KeyOutcome JiraProcessor::moveIssue(const std::string& key,
                                                   const std::string& machine_event,
                                                   const sdk::Event& event,
                                                   sdk::Delivery& delivery) {
  if (auto failed = delivery.get(failedCheckpoint(key))) {
    return {KeyOutcome::Kind::kFailed, *failed, {}};
  }
  if (auto done = delivery.get(doneCheckpoint(key))) {
    return commentOnce(key, *done, event, delivery);
  }
  auto fail = [&](std::string message) {
    message = forCheckpoint(std::move(message));
    delivery.put(failedCheckpoint(key), message);
    host().warn(message);
    host().count("jira.failed");
    return KeyOutcome{KeyOutcome::Kind::kFailed, std::move(message), {}};
  };

  auto answer = client_->issue(key);
  if (auto* failure = std::get_if<JiraFailure>(&answer)) {
    auto outcome = fromFailure(key, *failure);
    if (outcome.kind == KeyOutcome::Kind::kFailed) return fail(outcome.message);
    return outcome;
  }
  const IssueState& issue = std::get<IssueState>(answer);
  const std::string project(projectOf(key));

  // A target recorded by an earlier attempt: the POST may or may not have happened. Where the
  // issue has left the status it was moved from, it did (or someone moved it meanwhile):
  // either way, done. Otherwise it is tried again. `next` is not asked again: from the new
  // status it would lead one step further.
  std::string target;
  if (auto recorded = delivery.get(targetCheckpoint(key))) {
    const auto from = delivery.get(fromCheckpoint(key));
    if (equalsIgnoringCase(issue.status, *recorded) ||
        (from && !equalsIgnoringCase(issue.status, *from))) {
      delivery.put(doneCheckpoint(key), issue.status);
      return commentOnce(key, issue.status, event, delivery);
    }
    target = *recorded;
  } else {
    auto next = host().next(project, issue.status, machine_event);
    if (!next.next) return fail(key + ": " + next.error);
    if (next.next->end) {
      host().info(key + " is at \"" + issue.status + "\": `" + machine_event +
                  "` leads to <end> in " + project + "'s state machine; nothing to do");
      return {};
    }
    target = next.next->status;
  }

  const Transition* transition = pickTransition(issue.transitions, target);
  if (transition == nullptr) {
    return fail(key + ": no transition available from \"" + issue.status + "\" leads to \"" +
                target + "\" (available: " + describe(issue.transitions) + ")");
  }
  if (settings_.dry_run) {
    host().info("dry run: would move " + key + " from \"" + issue.status + "\" to \"" + target +
                "\" (transition \"" + transition->name + "\")");
    return {};
  }

  // What the issue will stand at: the transition's own target status, which differs from the
  // state machine's when the transition was matched by its name.
  const std::string reaching = transition->to.empty() ? target : transition->to;
  delivery.put(fromCheckpoint(key), issue.status);
  delivery.put(targetCheckpoint(key), reaching);
  if (auto failure = client_->transition(key, transition->id)) {
    auto outcome = fromFailure(key, *failure);
    if (outcome.kind != KeyOutcome::Kind::kFailed) return outcome;
    if (failure->status == 400) {
      outcome.message += " (available: " + describe(issue.transitions) + ")";
    }
    return fail(outcome.message);
  }
  delivery.put(doneCheckpoint(key), reaching);
  host().info(key + " moved from \"" + issue.status + "\" to \"" + reaching + "\" (transition \"" +
              transition->name + "\"): " + what(event));
  host().count("jira.transitions");
  return commentOnce(key, reaching, event, delivery);
}

JiraProcessor::KeyOutcome JiraProcessor::commentOnce(const std::string& key,
                                                     const std::string& status,
                                                     const sdk::Event& event,
                                                     sdk::Delivery& delivery) {
  if (!settings_.comment || settings_.dry_run || delivery.get(commentedCheckpoint(key))) return {};
  const std::string text = "Moved to " + status + " by Conduit: " + what(event) + ".";
  if (auto failure = client_->comment(key, text)) {
    auto outcome = fromFailure(key, *failure);
    // The issue has moved; a comment Jira refuses for good (or refuses this account, which may
    // move issues without being allowed to comment) is not worth a dead letter.
    if (outcome.kind == KeyOutcome::Kind::kFailed ||
        outcome.kind == KeyOutcome::Kind::kCredentialsRefused) {
      host().warn(key + ": moved, but the comment was refused: " + outcome.message);
      return {};
    }
    return outcome;
  }
  delivery.put(commentedCheckpoint(key), "1");
  return {};
}

JiraProcessor::KeyOutcome JiraProcessor::fromFailure(const std::string& key,
                                                     const JiraFailure& failure) {
  switch (failure.kind) {
    case JiraFailure::Kind::kCredentials:
      return {KeyOutcome::Kind::kCredentialsRefused, failure.message, {}};
    case JiraFailure::Kind::kRetryLater:
      host().count("jira.retries");
      return {KeyOutcome::Kind::kRetry, failure.message, failure.retry_after};
    case JiraFailure::Kind::kNotFound:
      return {KeyOutcome::Kind::kFailed, key + ": no such issue (" + failure.message + ")", {}};
    case JiraFailure::Kind::kRejected:
      break;
  }
  return {KeyOutcome::Kind::kFailed, failure.message, {}};
}

}  // namespace conduit::jira
