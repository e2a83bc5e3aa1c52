#include "worker/retry_policy.hpp"

#include <doctest/doctest.h>

using conduit::worker::RetryPolicy;
using std::chrono::milliseconds;

TEST_CASE("retry policy: the wait doubles from retry_initial_ms up to retry_max_ms") {
  auto policy = RetryPolicy::exponential(milliseconds(1000), milliseconds(600000), 10);
  // With no jitter taken away, the plain exponential.
  CHECK(policy.delayAfter(1, 0.0) == milliseconds(1000));
  CHECK(policy.delayAfter(2, 0.0) == milliseconds(2000));
  CHECK(policy.delayAfter(5, 0.0) == milliseconds(16000));
  CHECK(policy.delayAfter(10, 0.0) == milliseconds(512000));
  CHECK(policy.delayAfter(11, 0.0) == milliseconds(600000));
  CHECK(policy.delayAfter(1000, 0.0) == milliseconds(600000));  // no overflow
}

TEST_CASE("retry policy: jitter takes away up to half - never more") {
  auto policy = RetryPolicy::exponential(milliseconds(1000), milliseconds(600000), 10);
  CHECK(policy.delayAfter(3, 0.5) == milliseconds(3000));
  CHECK(policy.delayAfter(3, 0.999) > milliseconds(2000));
  CHECK(policy.delayAfter(3, 7.0) == milliseconds(2000));  // out of range: clamped
  CHECK(policy.delayAfter(3, -1.0) == milliseconds(4000));
}

TEST_CASE("retry policy: a delay the plugin asks for wins - capped at retry_max_ms") {
  auto policy = RetryPolicy::exponential(milliseconds(1000), milliseconds(60000), 10);
  CHECK(policy.delayAfter(1, 0.9, milliseconds(30000)) == milliseconds(30000));
  CHECK(policy.delayAfter(1, 0.9, milliseconds(3600000)) == milliseconds(60000));
}

TEST_CASE("retry policy: a delay shorter than the policy's is not waited - the policy's is") {
  auto policy = RetryPolicy::exponential(milliseconds(10000), milliseconds(60000), 10);
  CHECK(policy.delayAfter(1, 0.0, milliseconds(500)) == milliseconds(10000));
}

TEST_CASE("retry policy: a schedule's delays come in order - the last one past its end") {
  auto policy = RetryPolicy::fromSchedule({milliseconds(5000), milliseconds(60000)});
  CHECK(policy.maxAttempts() == 3);
  CHECK(policy.longestDelay() == milliseconds(60000));
  // jitter 0.5 is the middle of the spread: the delay as written.
  CHECK(policy.delayAfter(1, 0.5) == milliseconds(5000));
  CHECK(policy.delayAfter(2, 0.5) == milliseconds(60000));
  CHECK(policy.delayAfter(7, 0.5) == milliseconds(60000));
  CHECK(policy.delayAfter(0, 0.5) == milliseconds(5000));
}

TEST_CASE("retry policy: a schedule's jitter is 10 % either way") {
  auto policy = RetryPolicy::fromSchedule({milliseconds(10000)});
  CHECK(policy.delayAfter(1, 0.0) == milliseconds(9000));
  CHECK(policy.delayAfter(1, 0.999) > milliseconds(10990));
  CHECK(policy.delayAfter(1, 0.999) < milliseconds(11000));
}

TEST_CASE("retry policy: with a schedule a plugin's longer delay is waited - up to its longest") {
  auto policy = RetryPolicy::fromSchedule({milliseconds(5000), milliseconds(3600000)});
  CHECK(policy.delayAfter(1, 0.5, milliseconds(120000)) == milliseconds(120000));
  CHECK(policy.delayAfter(1, 0.5, milliseconds(1000)) == milliseconds(5000));
  CHECK(policy.delayAfter(1, 0.5, milliseconds(86400000)) == milliseconds(3600000));
}
