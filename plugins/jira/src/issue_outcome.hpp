#pragma once

#include <algorithm>
#include <chrono>
#include <string>

#include "jira_client.hpp"

namespace conduit::jira {

// How one piece of work on one issue went (its fix version, its link): what the processor's
// per-key loop makes of it is the same as for a move.
struct IssueOutcome {
  enum class Kind {
    kDone,                // done now, or earlier, or nothing to do
    kFailed,              // failed for good: Jira refused it (400, 404)
    kRetry,               // try again later (429, 5xx, no answer, a lease held by another)
    kCredentialsRefused,  // 401 or 403: nothing else will work either
  };
  Kind kind = Kind::kDone;
  std::string message;
  std::chrono::milliseconds retry_after{0};
};

// Two pieces of work on one issue as one outcome: the one that asks most of the delivery
// (credentials refused, then retry, then failed for good), with the messages of both that did
// not succeed.
inline IssueOutcome combine(IssueOutcome first, IssueOutcome second) {
  if (second.kind == IssueOutcome::Kind::kDone) return first;
  if (first.kind == IssueOutcome::Kind::kDone) return second;
  auto rank = [](IssueOutcome::Kind kind) {
    switch (kind) {
      case IssueOutcome::Kind::kDone:
        return 0;
      case IssueOutcome::Kind::kFailed:
        return 1;
      case IssueOutcome::Kind::kRetry:
        return 2;
      case IssueOutcome::Kind::kCredentialsRefused:
        break;
    }
    return 3;
  };
  IssueOutcome both;
  both.kind = rank(second.kind) > rank(first.kind) ? second.kind : first.kind;
  both.message = first.message + "; " + second.message;
  both.retry_after = std::max(first.retry_after, second.retry_after);
  return both;
}

// What a JiraFailure of a call about `key` means for the issue, classified as every call's.
inline IssueOutcome outcomeOf(const std::string& key, const JiraFailure& failure) {
  switch (failure.kind) {
    case JiraFailure::Kind::kCredentials:
      return {IssueOutcome::Kind::kCredentialsRefused, failure.message, {}};
    case JiraFailure::Kind::kRetryLater:
      return {IssueOutcome::Kind::kRetry, failure.message, failure.retry_after};
    case JiraFailure::Kind::kNotFound:
      return {IssueOutcome::Kind::kFailed, key + ": not found (" + failure.message + ")", {}};
    case JiraFailure::Kind::kRejected:
      break;
  }
  return {IssueOutcome::Kind::kFailed, failure.message, {}};
}

// Runs `once` again while it asks for a retry after a Retry-After short enough to sleep out in
// this call (the client sleeps it before the next request), at most three times in all: a
// short wait is not worth a retry of the whole delivery.
template <typename Once>
IssueOutcome withShortWaits(const JiraClient& client, Once&& once) {
  constexpr int kMaxRounds = 3;
  IssueOutcome outcome;
  for (int round = 1; round <= kMaxRounds; ++round) {
    outcome = once();
    const bool short_wait = outcome.kind == IssueOutcome::Kind::kRetry &&
                            outcome.retry_after.count() > 0 &&
                            outcome.retry_after <= client.maxInProcessWait();
    if (!short_wait) break;
  }
  return outcome;
}

}  // namespace conduit::jira
