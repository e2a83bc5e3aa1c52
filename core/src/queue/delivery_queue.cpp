#include "queue/delivery_queue.hpp"

#include <cctype>

#include <fmt/format.h>

namespace conduit::queue {
namespace {

// KEYS: seen key, stream. ARGV: seconds to remember the id, group, then the entry's
// field/value pairs. The entry is appended before the id is recorded: should the append fail
// (Redis out of memory), nothing is left behind that would turn away the redelivery.
const store::RedisScript kEnqueueScript(R"lua(
local earlier = redis.call('GET', KEYS[1])
if earlier then return {0, earlier} end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
end
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
return {1, id}
)lua");

}  // namespace

bool isValidDeliveryId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

std::string QueueNames::seenKey(std::string_view provider, std::string_view repo_id,
                                std::string_view delivery_id) {
  return redis_keys::seenKey(provider, repo_id, delivery_id);
}

DeliveryQueue::DeliveryQueue(store::RedisPool& redis) : redis_(redis) {}

void DeliveryQueue::ensureConsumerGroup() {
  redis_.run(store::Retry::kIdempotent, [](store::RedisConnection& c) {
    try {
      // From id 0, so that entries appended before the group existed are delivered too.
      c.command({"XGROUP", "CREATE", QueueNames::kStream, QueueNames::kGroup, "0", "MKSTREAM"});
    } catch (const store::RedisError& e) {
      if (std::string_view(e.what()).substr(0, 9) != "BUSYGROUP") throw;
    }
    return true;
  });
}

EnqueueResult DeliveryQueue::enqueue(const Delivery& delivery) {
  const std::string seen =
      QueueNames::seenKey(delivery.provider, delivery.repo_id, delivery.delivery_id);
  const std::string ttl = std::to_string(std::chrono::seconds(kDeliveryIdMemory).count());
  const std::string received_at = std::to_string(delivery.received_at_ms);
  namespace entry = redis_keys::entry;
  const store::RedisArgs args = {seen,
                                 QueueNames::kStream,
                                 ttl,
                                 QueueNames::kGroup,
                                 entry::kSchema,
                                 redis_keys::kSchemaVersion,
                                 entry::kProvider,
                                 delivery.provider,
                                 entry::kRepoId,
                                 delivery.repo_id,
                                 entry::kRepoPath,
                                 delivery.repo_path,
                                 entry::kEvent,
                                 delivery.event,
                                 entry::kDelivery,
                                 delivery.delivery_id,
                                 entry::kReceivedAtMs,
                                 received_at,
                                 entry::kPayload,
                                 delivery.payload};
  // Safe to send twice: a second run finds the id recorded by the first and appends nothing.
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kEnqueueScript.run(c, 2, args);
  });
  if (reply.elements.size() != 2) {
    throw store::RedisError("unexpected reply from the enqueue script");
  }
  return EnqueueResult{reply.elements[0].integer == 0, reply.elements[1].text};
}

}  // namespace conduit::queue
