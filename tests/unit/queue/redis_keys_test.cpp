// The names docs/queue.md promises: other consumers, and operators replaying dead letters,
// rely on them.
#include "queue/redis_keys.hpp"

#include <doctest/doctest.h>

namespace keys = conduit::queue::redis_keys;

TEST_CASE("redis keys: the documented names") {
  CHECK(keys::kStream == "conduit::deliveries");
  CHECK(keys::kGroup == "conduit-workers");
  CHECK(keys::kDeadLetterStream == "conduit::dead-letters");
  CHECK(keys::seenKey("github", "svc", "d-1") == "conduit::seen::github::svc::d-1");
  CHECK(keys::progressKey("1-0") == "conduit::progress::1-0");
  CHECK(keys::consumerKey("host:9093") == "conduit::consumers::host:9093");
  CHECK(keys::kDeliveryIdMemory == std::chrono::hours(72));
  CHECK(keys::kSchemaVersion == "1");
}

TEST_CASE("redis keys: checkpoints are keyed by the delivery's identity - not its entry") {
  const std::string identity = keys::deliveryIdentity("github", "svc", "d-1");
  CHECK(identity == "github::svc::d-1");
  CHECK(keys::checkpointKey(identity, "jira") == "conduit::checkpoints::github::svc::d-1::jira");
}
