#include "queue/delivery.hpp"

#include <doctest/doctest.h>

#include "queue/delivery_queue.hpp"

using conduit::queue::isValidDeliveryId;
using conduit::queue::QueueNames;

TEST_CASE("delivery ids: GUIDs pass - empty - long or odd ones do not") {
  CHECK(isValidDeliveryId("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
  CHECK_FALSE(isValidDeliveryId(""));
  CHECK_FALSE(isValidDeliveryId(std::string(129, 'a')));
  CHECK_FALSE(isValidDeliveryId("id with space"));
  CHECK_FALSE(isValidDeliveryId("id\nforged-log-line"));
}

TEST_CASE("queue names: the stream - group and seen-key layout the docs promise") {
  CHECK(QueueNames::kStream == "conduit::deliveries");
  CHECK(QueueNames::kGroup == "conduit-workers");
  CHECK(QueueNames::seenKey("github", "repo", "abc") == "conduit::seen::github::repo::abc");
}
