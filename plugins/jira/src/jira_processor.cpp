#include "jira_processor.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <thread>

#include "bounded_parallel.hpp"
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
std::string leaseCheckpoint(const std::string& key) {
  return "lease:" + key;  // the token of the issue's lease, to take it back after a crash
}
std::string commentingCheckpoint(const std::string& key) {
  return "commenting:" + key;  // a comment was sent: a retry looks for it before sending again
}

// How many times one delivery reads an issue again and decides again, within one attempt,
// after Jira refused a transition the issue had when it was read (someone moved it between).
constexpr int kMaxDecisions = 3;
// How many times an answer lost after a transition was sent is checked by reading the issue,
// and the pause before each check after the first: Jira failing one request often answers the
// next.
constexpr int kMaxChecks = 4;
constexpr std::chrono::milliseconds kFirstCheckPause{100};

// The part of a comment that names the delivery, so that a retry can tell whether the comment
// of an earlier attempt reached Jira though its answer was lost. Jira's wiki markup shows
// ~text~ as subscript: small, at the end. Only characters that mean nothing to the markup.
std::string markerOf(std::string_view worker, const sdk::Event& event) {
  std::string marker = "~conduit:";
  auto add = [&marker](std::string_view part) {
    for (char c : part.substr(0, 100)) {
      const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      marker += plain ? c : '_';
    }
  };
  add(worker);
  marker += ':';
  add(event.provider());
  marker += ':';
  add(event.deliveryId());
  return marker + "~";
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
  if (kind == "tag") return {event.tag()};
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

// What happened, for a comment: "merge request !12 "Sign-in" (https://...) was merged by alice on
// GitLab". The host's own words for the change and its name come with the event (ABI 1.3).
std::string what(const sdk::Event& event) {
  const std::string_view kind = event.kind();
  const std::string author = event.author().empty() ? "someone" : std::string(event.author());
  const std::string link = event.url().empty() ? "" : " (" + std::string(event.url()) + ")";
  const std::string on = event.hostName().empty() ? "" : " on " + std::string(event.hostName());
  if (startsWith(kind, "pull_request.")) {
    const std::string change =
        event.reference().empty() ? "pull request" : std::string(event.reference());
    return change + " \"" + std::string(event.title()) + "\"" + link +
           (kind == "pull_request.merged" ? " was merged by " : " by ") + author + on;
  }
  if (startsWith(kind, "release.")) {
    const std::string_view name = event.releaseName().empty() ? event.tag() : event.releaseName();
    return "release " + std::string(name) + link + " was published by " + author + on;
  }
  if (kind == "push") {
    return "commits pushed to " + std::string(event.branch()) + link + " by " + author + on;
  }
  if (kind == "tag") return "tag " + std::string(event.tag()) + link + " pushed by " + author + on;
  return std::string(kind) + link + on;
}

// Why an event whose kind is not one of the worker's triggers is nothing to do, for the delivery
// log: "pull request closed without merge", "release created: not a trigger of this worker".
std::string notATrigger(std::string_view kind) {
  if (kind == "pull_request.closed") return "pull request closed without merge";
  std::string what(kind);
  if (startsWith(kind, "pull_request.")) {
    what = "pull request " + std::string(kind.substr(13));
  } else if (startsWith(kind, "release.")) {
    what = "release " + std::string(kind.substr(8));
  }
  std::replace(what.begin(), what.end(), '_', ' ');
  return what + ": not a trigger of this worker";
}

}  // namespace

void JiraProcessor::configure(const sdk::Config& config) {
  worker_ = config.worker_name;
  std::set<std::string> projects;
  projects_as_written_.clear();
  for (std::string project : config.projects) {
    projects_as_written_ += (projects_as_written_.empty() ? "" : ", ") + project;
    std::transform(project.begin(), project.end(), project.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    projects.insert(project);
  }
  settings_ = readSettings(config.worker_json, projects,
                           [this](std::string_view key) { return host().config(key); });
  client_ = std::make_unique<JiraClient>(settings_.address, settings_.credentials,
                                         settings_.timeout, JiraClient::kDefaultMaxInProcessWait,
                                         settings_.max_requests_per_second);
  // The lease is extended before each request made under it, which lasts at most a short
  // Retry-After wait and its deadline: so it cannot expire while one is in flight, and a holder
  // that died blocks the issue no longer than this. Waiting a little longer than that for
  // another's lease means a dead holder costs a wait, not a retry.
  lease_ttl_ = settings_.timeout + client_->maxInProcessWait() + std::chrono::seconds(5);
  lease_wait_ = lease_ttl_ + std::chrono::seconds(5);
  fix_versions_ =
      std::make_unique<FixVersions>(host(), *client_, settings_, lease_ttl_, lease_wait_);
  remote_links_ = std::make_unique<RemoteLinks>(host(), *client_, settings_);
  smart_commits_ =
      std::make_unique<SmartCommits>(host(), *client_, settings_, worker_, lease_ttl_, lease_wait_);
  host().info("Jira at " + settings_.address.scheme_host_port + settings_.address.base_path +
              " as " + settings_.credentials.who + (settings_.dry_run ? " (dry run)" : ""));
}

sdk::Result JiraProcessor::process(const sdk::Event& event, sdk::Delivery& delivery) {
  // ---- Smart commits (smart_commits: true) ----
  // `SOC-12 #comment ...`, `#time 1h`, `#done` in a push's commit messages and a merged pull
  // request's title and body, whether or not the event's kind is a trigger. Before the state
  // machine's move: the commits were written before the merge that moves their issues. A
  // command that failed for good is reported and warned about, and does not fail the delivery.
  const SmartCommits::Outcome smart = smart_commits_->apply(event, delivery);
  if (smart.credentials_refused) {
    host().error("Jira refused the credentials of " + settings_.credentials.who + ": " +
                 *smart.credentials_refused + "; check atlassian_email and atlassian_api_key " +
                 "(or atlassian_pat) and the account's permissions (smart commits: Add " +
                 "comments, Work on issues, Transition issues)");
    host().count("jira.credentials_refused");
    return sdk::Result::failed(*smart.credentials_refused);
  }
  sdk::Result moved = moveIssues(event, delivery, smart.had_commands);
  if (smart.retries.empty()) return moved;
  // Smart commands to retry: the retry finds what was done, here and by the moves, in its
  // checkpoints; the moves' failures for good, if any, are met again there and decide its end.
  std::string why = moved.message;
  for (const auto& part : smart.retries)
    why += (why.empty() ? "" : "; ") + part;
  return sdk::Result::retry(why,
                            std::max({moved.retry_after, smart.retry_after, client_->siteWait()}));
}

sdk::Result JiraProcessor::moveIssues(const sdk::Event& event, sdk::Delivery& delivery,
                                      bool acted) {
  const auto trigger = settings_.triggers.find(std::string(event.kind()));
  // A release gets fix versions, and a pull request or a push links, trigger or not.
  if (trigger == settings_.triggers.end() && !fix_versions_->appliesTo(event) &&
      !remote_links_->appliesTo(event)) {
    // Not for this worker; the delivery log says so, rather than "done".
    if (!acted) host().report(delivery, "ignored", {{"reason", notATrigger(event.kind())}});
    return sdk::Result::ok();
  }
  const auto found = findIssueKeys(textsOf(event), settings_.projects, settings_.max_keys_per_event,
                                   settings_.key_case);
  if (found.left_out > 0) {
    host().warn(std::string(event.kind()) + " " + std::string(event.deliveryId()) + " names " +
                std::to_string(found.keys.size() + found.left_out) + " issues: only the first " +
                std::to_string(found.keys.size()) + " are handled (max_keys_per_event), " +
                std::to_string(found.left_out) + " left out");
    host().count("jira.keys_left_out", static_cast<int64_t>(found.left_out));
    host().report(delivery, "skipped",
                  {{"reason", std::to_string(found.left_out) +
                                  " more issue keys named past max_keys_per_event (" +
                                  std::to_string(settings_.max_keys_per_event) + ")"}});
  }
  const auto& keys = found.keys;
  if (keys.empty()) {
    host().debug(std::string(event.kind()) + " " + std::string(event.deliveryId()) +
                 " names no issue of this worker's projects");
    if (!acted) {
      host().report(delivery, "ignored",
                    {{"reason", "no issue keys of projects " + projects_as_written_}});
    }
    return sdk::Result::ok();
  }

  // The keys are worked on in parallel, at most `concurrency` at a time. Each outcome is kept
  // in the key's slot, so that they combine as the keys are named whatever the order they end
  // in.
  std::vector<KeyOutcome> outcomes(keys.size());
  std::atomic<bool> refused{false};
  runBounded(
      keys.size(), settings_.concurrency,
      [&](size_t index) {
        const std::string& key = keys[index];
        KeyOutcome& outcome = outcomes[index];
        try {
          outcome = handleKey(key, event, delivery);
        } catch (const std::exception& e) {
          // As the SDK makes of an exception out of process(): a retry of the delivery, which
          // finds what the other keys did in its checkpoints.
          outcome = {KeyOutcome::Kind::kRetry, key + ": uncaught exception: " + e.what(), {}};
        } catch (...) {
          outcome = {KeyOutcome::Kind::kRetry, key + ": uncaught exception", {}};
        }
        // Every other call would be refused the same way: no other key starts.
        if (outcome.kind == KeyOutcome::Kind::kCredentialsRefused) refused = true;
      },
      refused);

  std::vector<std::string> failures, retries;
  std::chrono::milliseconds retry_after{0};
  for (size_t index = 0; index < keys.size(); ++index) {
    const KeyOutcome& outcome = outcomes[index];
    switch (outcome.kind) {
      case KeyOutcome::Kind::kDone:
        break;
      case KeyOutcome::Kind::kCredentialsRefused:
        // Keys already under way when it came ended as they would have; do not retry.
        host().error("Jira refused the credentials of " + settings_.credentials.who + ": " +
                     outcome.message + "; check atlassian_email and atlassian_api_key (or " +
                     "atlassian_pat) and the account's permissions");
        host().count("jira.credentials_refused");
        host().report(delivery, "failed", {{"issue", keys[index]}, {"reason", outcome.message}});
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
  // and the final answer still names them. A retry waits at least as long as Jira asked the
  // whole site to (Retry-After), so that it is not spent before Jira takes requests again.
  if (!retries.empty()) {
    return sdk::Result::retry(join(retries), std::max(retry_after, client_->siteWait()));
  }
  if (!failures.empty()) return sdk::Result::failed(join(failures));
  return sdk::Result::ok();
}

JiraProcessor::KeyOutcome JiraProcessor::handleKey(const std::string& key, const sdk::Event& event,
                                                   sdk::Delivery& delivery) {
  // Each piece of work on the issue is independent of the others: a release's fix version is
  // added though the state machine had no move for the issue. Credentials refused stop them.
  KeyOutcome outcome;
  // A trigger mapped to nothing moves nothing (its issues get fix versions and links only).
  const auto trigger = settings_.triggers.find(std::string(event.kind()));
  if (trigger != settings_.triggers.end() && !trigger->second.empty()) {
    outcome = handleIssue(key, trigger->second, event, delivery);
  }
  // Fix versions from releases (fix_versions.cpp), whether or not the issue moved.
  if (outcome.kind != KeyOutcome::Kind::kCredentialsRefused && fix_versions_->appliesTo(event)) {
    outcome = combine(std::move(outcome), fix_versions_->forIssue(key, event, delivery));
  }
  // Links back to the code (remote_links.cpp).
  if (outcome.kind != KeyOutcome::Kind::kCredentialsRefused && remote_links_->appliesTo(event)) {
    outcome = combine(std::move(outcome), remote_links_->forIssue(key, event, delivery));
  }
  return outcome;
}

JiraProcessor::KeyOutcome JiraProcessor::handleIssue(const std::string& key,
                                                     const std::string& machine_event,
                                                     const sdk::Event& event,
                                                     sdk::Delivery& delivery) {
  // A short Retry-After is waited out here rather than spending a retry of the delivery on it:
  // the next request sleeps until the site's not-before time. Outside the issue's lease, which
  // another delivery may take meanwhile.
  constexpr int kMaxRounds = 3;
  KeyOutcome outcome;
  for (int round = 1; round <= kMaxRounds; ++round) {
    outcome = handleIssueOnce(key, machine_event, event, delivery, round == 1);
    // Only while the site is held: a request refused a token of
    // atlassian_max_requests_per_second is refused again at once, and its retry_after is for
    // the delivery's retry.
    const bool short_wait =
        outcome.kind == KeyOutcome::Kind::kRetry && outcome.retry_after.count() > 0 &&
        outcome.retry_after <= client_->maxInProcessWait() && client_->siteWait().count() > 0;
    if (!short_wait) break;
  }
  return outcome;
}

JiraProcessor::KeyOutcome JiraProcessor::handleIssueOnce(const std::string& key,
                                                         const std::string& machine_event,
                                                         const sdk::Event& event,
                                                         sdk::Delivery& delivery,
                                                         bool first_round) {
  // A key that failed for good is not tried again by the delivery's retries. A first attempt
  // that finds one is a replay (a dead letter put back after its cause was fixed, say): it
  // tries again. What was done (moved, commented) is never done again, replay or not.
  if (auto failed = delivery.get(failedCheckpoint(key)); failed && event.attempt() > 1) {
    host().report(delivery, "failed", {{"issue", key}, {"reason", *failed}});
    return {KeyOutcome::Kind::kFailed, *failed, {}};
  }
  if (auto done = delivery.get(doneCheckpoint(key))) {
    // Moved by an earlier attempt at this delivery (which reported it): there now. A later
    // round of this call comes back for the comment only: its move is reported already.
    if (first_round) {
      host().report(delivery, "already_there", {{"issue", key}, {"status", *done}});
    }
    return commentOnce(key, *done, event, delivery);
  }
  KeyOutcome outcome = moveIssue(key, machine_event, event, delivery);
  if (outcome.kind != KeyOutcome::Kind::kDone) return outcome;
  // Moved now (not at <end>, not a dry run): the comment says so. Outside the lease: a comment
  // orders nothing, and the next delivery for the issue need not wait for it.
  if (auto done = delivery.get(doneCheckpoint(key))) {
    return commentOnce(key, *done, event, delivery);
  }
  return outcome;
}

JiraProcessor::KeyOutcome JiraProcessor::moveIssue(const std::string& key,
                                                   const std::string& machine_event,
                                                   const sdk::Event& event,
                                                   sdk::Delivery& delivery) {
  auto fail = [&](std::string message) {
    message = forCheckpoint(std::move(message));
    delivery.put(failedCheckpoint(key), message);
    host().warn(message);
    host().count("jira.failed");
    host().report(delivery, "failed", {{"issue", key}, {"reason", message}});
    return KeyOutcome{KeyOutcome::Kind::kFailed, std::move(message), {}};
  };

  // One delivery at a time moves an issue, in any worker process: each reads the status the
  // issue has once the one before is done, and applies its event to that.
  // An attempt at this delivery whose process died holding the lease (killed while a
  // transition was in flight, say) left its token: taken back before it expires, no other
  // delivery can have moved the issue meanwhile, so its status tells whether that transition
  // was applied.
  std::optional<sdk::Lease> lease;
  try {
    if (auto saved = delivery.get(leaseCheckpoint(key)); saved && !saved->empty()) {
      lease = host().resumeLease(key, *saved, lease_ttl_);
      if (lease) host().info(key + ": took back the lease an earlier attempt held");
    }
    if (!lease) lease = host().lease(key, lease_ttl_, lease_wait_);
  } catch (const sdk::HostError& e) {
    return {KeyOutcome::Kind::kRetry, key + ": " + e.what(), {}};
  }
  if (!lease) {
    host().count("jira.lease_busy");
    return {KeyOutcome::Kind::kRetry,
            key + ": another delivery is still moving it (waited " +
                std::to_string(lease_wait_.count()) + " ms for its lease)",
            {}};
  }
  delivery.put(leaseCheckpoint(key), lease->token());
  // Before each request: the lease then outlasts the request (its ttl covers one).
  auto keepLease = [&] { return lease->extend(lease_ttl_); };
  const KeyOutcome lost{KeyOutcome::Kind::kRetry,
                        key + ": its lease expired (another delivery may be moving it)",
                        {}};
  const std::string project(projectOf(key));

  for (int decision = 1;; ++decision) {
    if (!keepLease()) return lost;
    auto answer = client_->issue(key);
    if (auto* failure = std::get_if<JiraFailure>(&answer)) {
      auto outcome = fromFailure(key, *failure);
      if (outcome.kind == KeyOutcome::Kind::kFailed) return fail(outcome.message);
      return outcome;
    }
    const IssueState& issue = std::get<IssueState>(answer);

    // A target recorded by an earlier attempt whose transition may or may not have been
    // applied (its answer was lost and could not be checked). Where the issue has left the
    // status it was moved from, it was (or someone moved it meanwhile): either way, done.
    // Otherwise it is tried again. `next` is not asked again: from the new status it would
    // lead one step further.
    std::string target;
    auto recorded = delivery.get(targetCheckpoint(key));
    if (recorded && !recorded->empty()) {
      const auto from = delivery.get(fromCheckpoint(key));
      if (equalsIgnoringCase(issue.status, *recorded) ||
          (from && !equalsIgnoringCase(issue.status, *from))) {
        delivery.put(doneCheckpoint(key), issue.status);
        // The transition an earlier attempt sent was applied, though its answer was lost.
        host().report(delivery, "moved",
                      {{"issue", key}, {"from", from.value_or("")}, {"to", issue.status}});
        return {};
      }
      target = *recorded;
    } else {
      auto next = host().next(delivery, project, issue.status, machine_event);
      if (!next.next) return fail(key + ": " + next.error);
      if (next.next->end) {
        host().info(key + " is at \"" + issue.status + "\": `" + machine_event +
                    "` leads to <end> in " + project + "'s state machine; nothing to do");
        host().report(delivery, "end", {{"issue", key}, {"status", issue.status}});
        return {};
      }
      target = next.next->status;
      if (equalsIgnoringCase(issue.status, target)) {
        // Moved there by hand, or by another delivery: nothing left to do.
        host().info(key + " is at \"" + issue.status + "\" already: nothing to do");
        host().report(delivery, "already_there", {{"issue", key}, {"status", issue.status}});
        return {};
      }
    }

    const Transition* transition = pickTransition(issue.transitions, target);
    if (transition == nullptr) {
      // The transitions as they are now, read under the lease: a real dead end.
      return fail(key + ": no transition available from \"" + issue.status + "\" leads to \"" +
                  target + "\" (available: " + describe(issue.transitions) + ")");
    }
    if (settings_.dry_run) {
      host().info("dry run: would move " + key + " from \"" + issue.status + "\" to \"" + target +
                  "\" (transition \"" + transition->name + "\")");
      host().report(delivery, "skipped",
                    {{"issue", key},
                     {"reason", "dry run: would move it from \"" + issue.status + "\" to \"" +
                                    target + "\" (transition \"" + transition->name + "\")"}});
      return {};
    }
    if (!keepLease()) return lost;

    // What the issue will stand at: the transition's own target status, which differs from the
    // state machine's when the transition was matched by its name.
    const std::string reaching = transition->to.empty() ? target : transition->to;
    delivery.put(fromCheckpoint(key), issue.status);
    delivery.put(targetCheckpoint(key), reaching);
    auto failure = client_->transition(key, transition->id);
    if (!failure) {
      delivery.put(doneCheckpoint(key), reaching);
      host().info(key + " moved from \"" + issue.status + "\" to \"" + reaching +
                  "\" (transition \"" + transition->name + "\"): " + what(event));
      host().count("jira.transitions");
      host().report(delivery, "moved",
                    {{"issue", key},
                     {"from", issue.status},
                     {"to", reaching},
                     {"transition", transition->name}});
      return {};
    }

    if (failure->ambiguous) {
      // Jira may have applied it. Nobody else moves the issue while the lease is held, so its
      // status now says which.
      switch (checkApplied(key, issue.status, reaching, keepLease)) {
        case Applied::kYes:
          delivery.put(doneCheckpoint(key), reaching);
          host().info(key + " moved from \"" + issue.status + "\" to \"" + reaching +
                      "\" (transition \"" + transition->name +
                      "\"; its answer was lost: " + failure->message + "): " + what(event));
          host().count("jira.transitions");
          host().report(delivery, "moved",
                        {{"issue", key},
                         {"from", issue.status},
                         {"to", reaching},
                         {"transition", transition->name}});
          return {};
        case Applied::kNo:
          delivery.put(targetCheckpoint(key), "");
          break;
        case Applied::kUnknown:
          break;  // the recorded target decides on the next attempt
      }
      return fromFailure(key, *failure);
    }

    // Jira refused it with an answer: nothing was applied.
    delivery.put(targetCheckpoint(key), "");
    if (failure->kind == JiraFailure::Kind::kRejected && failure->status == 400) {
      // The transition is no longer available: the issue changed since it was read (moved by
      // hand, say). Read it again and decide again; never a failure for good.
      if (decision < kMaxDecisions) {
        host().info(key + ": " + failure->message + "; reading the issue again");
        continue;
      }
      host().count("jira.retries");
      return {KeyOutcome::Kind::kRetry,
              failure->message + " (available when read: " + describe(issue.transitions) +
                  "); the issue keeps changing, trying again later",
              {}};
    }
    auto outcome = fromFailure(key, *failure);
    if (outcome.kind == KeyOutcome::Kind::kFailed) return fail(outcome.message);
    return outcome;
  }
}

JiraProcessor::Applied JiraProcessor::checkApplied(const std::string& key, const std::string& from,
                                                   const std::string& reaching,
                                                   const std::function<bool()>& keep_lease) {
  auto pause = kFirstCheckPause;
  for (int check = 1; check <= kMaxChecks; ++check) {
    if (check > 1) {
      std::this_thread::sleep_for(pause);
      pause *= 3;
    }
    if (!keep_lease()) break;
    auto answer = client_->issue(key);
    if (auto* state = std::get_if<IssueState>(&answer)) {
      if (equalsIgnoringCase(state->status, reaching)) return Applied::kYes;
      if (equalsIgnoringCase(state->status, from)) return Applied::kNo;
      // Moved on from the target by hand meanwhile: applied too.
      return Applied::kYes;
    }
    const auto& failure = std::get<JiraFailure>(answer);
    if (failure.kind != JiraFailure::Kind::kRetryLater) break;
  }
  return Applied::kUnknown;
}

JiraProcessor::KeyOutcome JiraProcessor::commentOnce(const std::string& key,
                                                     const std::string& status,
                                                     const sdk::Event& event,
                                                     sdk::Delivery& delivery) {
  if (!settings_.comment || settings_.dry_run || delivery.get(commentedCheckpoint(key))) return {};
  auto refused = [&](const KeyOutcome& outcome) {
    // The issue has moved; a comment Jira refuses for good (or refuses this account, which may
    // move issues without being allowed to comment) is not worth a dead letter.
    host().warn(key + ": moved, but the comment was refused: " + outcome.message);
    host().report(delivery, "skipped",
                  {{"issue", key}, {"reason", "the comment was refused: " + outcome.message}});
    return KeyOutcome{};
  };
  const std::string marker = markerOf(worker_, event);
  if (delivery.get(commentingCheckpoint(key))) {
    // An earlier attempt sent it: Jira may have added it though its answer was lost.
    auto answer = client_->comments(key);
    if (auto* failure = std::get_if<JiraFailure>(&answer)) {
      auto outcome = fromFailure(key, *failure);
      if (outcome.kind != KeyOutcome::Kind::kRetry) return refused(outcome);
      return outcome;
    }
    for (const auto& comment : std::get<std::vector<Comment>>(answer)) {
      if (comment.body.find(marker) != std::string::npos) {
        delivery.put(commentedCheckpoint(key), "1");
        host().info(key + ": the comment of an earlier attempt is there; not posted again");
        host().report(delivery, "commented", {{"issue", key}});
        return {};
      }
    }
  }
  const std::string text = "Moved to " + status + " by Conduit: " + what(event) + ".\n\n" + marker;
  delivery.put(commentingCheckpoint(key), "1");
  if (auto failure = client_->comment(key, text)) {
    auto outcome = fromFailure(key, *failure);
    if (outcome.kind == KeyOutcome::Kind::kFailed ||
        outcome.kind == KeyOutcome::Kind::kCredentialsRefused) {
      return refused(outcome);
    }
    return outcome;
  }
  delivery.put(commentedCheckpoint(key), "1");
  host().report(delivery, "commented", {{"issue", key}});
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
