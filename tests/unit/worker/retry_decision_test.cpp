#include "worker/retry_decision.hpp"

#include <doctest/doctest.h>

using conduit::queue::DeliveryProgress;
using conduit::worker::decideAfterAttempt;
using conduit::worker::decideAfterCutShort;
using conduit::worker::RetryPolicy;
using conduit::worker::WorkerAnswer;
using std::chrono::milliseconds;

namespace {

using Kind = WorkerAnswer::Kind;

WorkerAnswer answer(const std::string& worker, Kind kind, const std::string& message = "",
                    milliseconds after = milliseconds(0)) {
  return WorkerAnswer{worker, kind, after, message};
}

// The shipped default: 5s,1m,5m,30m,2h,5h,10h,10h.
RetryPolicy defaultSchedule() {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::seconds;
  return RetryPolicy::fromSchedule(
      {seconds(5), minutes(1), minutes(5), minutes(30), hours(2), hours(5), hours(10), hours(10)});
}

}  // namespace

TEST_CASE("retry decision: every worker ok - finished, no dead letter") {
  auto decision = decideAfterAttempt({}, {answer("a", Kind::kOk), answer("b", Kind::kOk)}, 1,
                                     RetryPolicy{}, 0.5);
  CHECK(decision.finish);
  CHECK(decision.dead_letters.empty());
  CHECK(decision.progress.attempts == 1);
  CHECK(decision.progress.done == std::set<std::string>{"a", "b"});
}

TEST_CASE("retry decision: a retry answer retries after the policy's delay, keeping who is done") {
  auto policy = RetryPolicy::fromSchedule({milliseconds(5000)});
  auto decision = decideAfterAttempt(
      {}, {answer("a", Kind::kOk), answer("b", Kind::kRetry, "Jira answered 503")}, 1, policy, 0.5);
  CHECK_FALSE(decision.finish);
  CHECK(decision.retry_in == milliseconds(5000));
  CHECK(decision.retry_reasons == "b: Jira answered 503");
  CHECK(decision.progress.last_error == "b: Jira answered 503");
  CHECK(decision.progress.attempts == 1);
  CHECK(decision.progress.done == std::set<std::string>{"a"});
}

TEST_CASE("retry decision: failed for good waits for the others' retries - then one dead letter") {
  auto policy = RetryPolicy::fromSchedule({milliseconds(1000)});
  auto first = decideAfterAttempt(
      {}, {answer("a", Kind::kFailed, "told to fail"), answer("b", Kind::kRetry, "busy")}, 1,
      policy, 0.5);
  REQUIRE_FALSE(first.finish);
  CHECK(first.dead_letters.empty());
  auto second = decideAfterAttempt(first.progress, {answer("b", Kind::kOk)}, 2, policy, 0.5);
  CHECK(second.finish);
  REQUIRE(second.dead_letters.size() == 1);
  CHECK(second.dead_letters[0].worker == "a");
  CHECK(second.dead_letters[0].error == "told to fail");
}

TEST_CASE("retry decision: still asking for a retry at the last attempt - dead-lettered") {
  auto policy = RetryPolicy::exponential(milliseconds(10), milliseconds(100), 3);
  auto decision =
      decideAfterAttempt({}, {answer("a", Kind::kRetry, "never ready")}, 3, policy, 0.5);
  CHECK(decision.finish);
  REQUIRE(decision.dead_letters.size() == 1);
  CHECK(decision.dead_letters[0].error == "gave up after 3 attempts: never ready");
}

TEST_CASE("retry decision: a longer Retry-After is waited and counts one attempt only") {
  auto policy = RetryPolicy::fromSchedule({milliseconds(5000), milliseconds(60000)});
  auto decision = decideAfterAttempt(
      {}, {answer("a", Kind::kRetry, "rate limited", milliseconds(30000))}, 1, policy, 0.5);
  CHECK_FALSE(decision.finish);
  CHECK(decision.retry_in == milliseconds(30000));
  CHECK(decision.progress.attempts == 1);
}

TEST_CASE("retry decision: a short Retry-After does not use attempts up faster than the schedule") {
  const auto policy = defaultSchedule();
  DeliveryProgress progress;
  milliseconds waited{0};
  for (int attempt = 1;; ++attempt) {
    auto decision = decideAfterAttempt(
        progress, {answer("jira", Kind::kRetry, "429", milliseconds(1000))}, attempt, policy, 0.0);
    progress = decision.progress;
    if (decision.finish) break;
    waited += decision.retry_in;
  }
  CHECK(progress.attempts == 9);
  CHECK(waited >= std::chrono::hours(24));  // even with all the jitter taken away
}

TEST_CASE("retry decision: an hour-long outage uses a few of the default schedule's attempts") {
  const auto policy = defaultSchedule();
  DeliveryProgress progress;
  milliseconds waited{0};
  int attempt = 1;
  for (; waited < std::chrono::hours(1); ++attempt) {
    auto decision =
        decideAfterAttempt(progress, {answer("jira", Kind::kRetry, "503")}, attempt, policy, 0.0);
    REQUIRE_FALSE(decision.finish);
    progress = decision.progress;
    waited += decision.retry_in;
  }
  CHECK(attempt <= 6);  // and 9 attempts in all
}

TEST_CASE("retry decision: an attempt cut short counts - and retries after the policy's delay") {
  auto policy = RetryPolicy::fromSchedule({milliseconds(5000), milliseconds(60000)});
  DeliveryProgress progress;
  progress.attempts = 0;
  progress.started = 1;
  auto decision = decideAfterCutShort(progress, {"a"}, policy, 0.5);
  CHECK_FALSE(decision.finish);
  CHECK(decision.progress.attempts == 1);
  CHECK(decision.progress.started == 1);
  CHECK(decision.retry_in == milliseconds(5000));
  CHECK(decision.progress.last_error.find("attempt 1 was cut short") == 0);
}

TEST_CASE("retry decision: the last attempt cut short - dead letters for the workers not done") {
  auto policy = RetryPolicy::exponential(milliseconds(10), milliseconds(100), 3);
  DeliveryProgress progress;
  progress.attempts = 2;
  progress.started = 3;
  progress.done = {"ok-one"};
  progress.failed = {{"failed-one", "told to fail"}};
  auto decision = decideAfterCutShort(progress, {"ok-one", "failed-one", "crashy"}, policy, 0.5);
  CHECK(decision.finish);
  REQUIRE(decision.dead_letters.size() == 2);
  CHECK(decision.dead_letters[0].worker == "failed-one");
  CHECK(decision.dead_letters[0].error == "told to fail");
  CHECK(decision.dead_letters[1].worker == "crashy");
  CHECK(decision.dead_letters[1].error.find("gave up after 3 attempts: attempt 3 was cut short") ==
        0);
}

TEST_CASE("retry decision: the last attempt cut short - a removed worker's failure is kept") {
  // It failed for good at an earlier attempt, then a reload removed it: its dead letter is
  // still owed, as it would be after an attempt that ended.
  auto policy = RetryPolicy::exponential(milliseconds(10), milliseconds(100), 2);
  DeliveryProgress progress;
  progress.attempts = 1;
  progress.started = 2;
  progress.failed = {{"removed", "no such project"}};
  auto decision = decideAfterCutShort(progress, {"crashy"}, policy, 0.5);
  CHECK(decision.finish);
  REQUIRE(decision.dead_letters.size() == 2);
  CHECK(decision.dead_letters[0].worker == "removed");
  CHECK(decision.dead_letters[0].error == "no such project");
  CHECK(decision.dead_letters[1].worker == "crashy");
}

TEST_CASE("retry decision: attempt numbers never go back") {
  DeliveryProgress progress;
  progress.attempts = 4;
  progress.started = 4;
  auto decision =
      decideAfterAttempt(progress, {answer("a", Kind::kRetry, "x")}, 2, RetryPolicy{}, 0.5);
  CHECK(decision.progress.attempts == 4);
}
