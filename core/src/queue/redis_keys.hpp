#pragma once

#include <chrono>
#include <string>
#include <string_view>

// Every name Conduit gives to things in Redis, defined once: key prefixes, expiries, the entry
// schema version and the field names of stream entries and hashes. docs/queue.md is the
// contract for them; the Lua scripts get them as arguments, never written into their text.
namespace conduit::queue::redis_keys {

// The delivery queue: a stream and its consumer group.
inline constexpr std::string_view kStream = "conduit::deliveries";
inline constexpr std::string_view kGroup = "conduit-workers";
// One entry per worker that failed for good on a delivery.
inline constexpr std::string_view kDeadLetterStream = "conduit::dead-letters";

// conduit::seen::<provider>::<repo_id>::<delivery id>: the stream entry a delivery id became.
inline constexpr std::string_view kSeenPrefix = "conduit::seen::";
// conduit::progress::<entry id>: a hash of what is known of a delivery across its attempts.
inline constexpr std::string_view kProgressPrefix = "conduit::progress::";
// conduit::checkpoints::<provider>::<repo_id>::<delivery id>::<worker>: what a worker's plugin
// kept for a delivery, by the delivery's identity, so that a replay finds it.
inline constexpr std::string_view kCheckpointPrefix = "conduit::checkpoints::";
// conduit::consumers::<consumer name>: a hash naming the live process that holds the name.
inline constexpr std::string_view kConsumerPrefix = "conduit::consumers::";
// conduit::leases::<worker>::<name>: a plugin's lease on a name (the Jira plugin's on an issue
// key), holding its holder's token, with an expiry.
inline constexpr std::string_view kLeasePrefix = "conduit::leases::";
// conduit::claims::<worker>::<name>: a name a worker's plugin claimed for one delivery (ABI 1.4:
// the Jira plugin's smart commit commands of a commit), holding that delivery's identity, for the
// worker's checkpoint_ttl_hours.
inline constexpr std::string_view kClaimPrefix = "conduit::claims::";

// The delivery log (docs/queue.md, "The delivery log"): conduit::log::<identity>, a hash per
// accepted delivery; conduit::log::index, a sorted set of identities by acceptance time;
// conduit::log::issue::<KEY>, a sorted set of the identities whose actions named issue KEY.
inline constexpr std::string_view kLogPrefix = "conduit::log::";
inline constexpr std::string_view kLogIndex = "conduit::log::index";
inline constexpr std::string_view kLogIssuePrefix = "conduit::log::issue::";

// The hook registry, in the original service's layout: providers::<provider> (a set of repo
// ids) and secrets::<provider>::<repo_id> (a hash).
inline constexpr std::string_view kProviderSetPrefix = "providers::";
inline constexpr std::string_view kHookPrefix = "secrets::";

// The hook registry's change feed (docs/queue.md, "The hook registry's change feed"), written by
// the same scripts that write hooks: a generation counter, and a sorted set of
// <provider>::<repo_id> scored by the generation of each hook's last change, trimmed to its
// newest kHookChangesKept members. Each server polls the counter to keep its memory current.
inline constexpr std::string_view kHookGeneration = "conduit::hooks::generation";
inline constexpr std::string_view kHookChanges = "conduit::hooks::changes";
inline constexpr long long kHookChangesKept = 10000;

// How long a delivery id is remembered: GitHub lets people redeliver for three days.
inline constexpr std::chrono::hours kDeliveryIdMemory{72};
// A delivery's progress outlives any retry schedule; it is erased when the delivery ends.
inline constexpr std::chrono::hours kProgressLifetime{24 * 30};
// How long a consumer name stays held by a process that stopped refreshing it.
inline constexpr std::chrono::seconds kConsumerLifetime{15};

// The version of a delivery entry's field list; later versions only add fields.
inline constexpr std::string_view kSchemaVersion = "1";

// The fields of a delivery entry, in the order they are written.
namespace entry {
inline constexpr std::string_view kSchema = "schema";
inline constexpr std::string_view kProvider = "provider";
inline constexpr std::string_view kRepoId = "repo_id";
inline constexpr std::string_view kRepoPath = "repo_path";
inline constexpr std::string_view kEvent = "event";
inline constexpr std::string_view kDelivery = "delivery";
inline constexpr std::string_view kReceivedAtMs = "received_at_ms";
inline constexpr std::string_view kPayload = "payload";
}  // namespace entry

// The fields a dead letter adds to the delivery's own.
namespace dead_letter {
inline constexpr std::string_view kEntry = "entry";
inline constexpr std::string_view kWorker = "worker";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kAttempts = "attempts";
inline constexpr std::string_view kFailedAtMs = "failed_at_ms";
}  // namespace dead_letter

// The fields of a progress hash.
namespace progress {
inline constexpr std::string_view kAttempts = "attempts";  // attempts that ended
inline constexpr std::string_view kStarted = "started";    // the last attempt that started
inline constexpr std::string_view kDueMs = "due_ms";
inline constexpr std::string_view kLastError = "last_error";
inline constexpr std::string_view kOkPrefix = "ok::";          // ok::<worker>
inline constexpr std::string_view kFailedPrefix = "failed::";  // failed::<worker>
}  // namespace progress

// The fields of a delivery log record (conduit::log::<identity>), docs/queue.md's "The
// delivery log"; besides them, one `worker::<name>` per worker, a JSON object.
namespace record {
inline constexpr std::string_view kProvider = "provider";
inline constexpr std::string_view kRepoId = "repo_id";
inline constexpr std::string_view kRepoPath = "repo_path";
inline constexpr std::string_view kEvent = "event";
inline constexpr std::string_view kKind = "kind";
inline constexpr std::string_view kUrl = "url";  // the pull request's, release's or push's page
inline constexpr std::string_view kDelivery = "delivery";
inline constexpr std::string_view kEntry = "entry";
inline constexpr std::string_view kSize = "size";
inline constexpr std::string_view kAcceptedAtMs = "accepted_at_ms";
inline constexpr std::string_view kUpdatedAtMs = "updated_at_ms";
inline constexpr std::string_view kStatus = "status";
inline constexpr std::string_view kReason = "reason";
inline constexpr std::string_view kNextAttemptMs = "next_attempt_ms";
inline constexpr std::string_view kAttempts = "attempts";
inline constexpr std::string_view kReplays = "replays";
inline constexpr std::string_view kIssues = "issues";
inline constexpr std::string_view kPayload = "payload";
inline constexpr std::string_view kWorkerPrefix = "worker::";  // worker::<name>
}  // namespace record

// The fields of a hook's hash (secrets::<provider>::<repo_id>), as the original service wrote
// them, and Conduit's sealed form of the secret.
namespace hook {
inline constexpr std::string_view kProvider = "provider";
inline constexpr std::string_view kRepoId = "repo_id";
inline constexpr std::string_view kRepoPath = "repo_path";
inline constexpr std::string_view kSecret = "secret";  // the original's plain-text field
inline constexpr std::string_view kSecretEncrypted = "secret_encrypted";
inline constexpr std::string_view kSecretKeyId = "secret_key_id";
}  // namespace hook

// The fields of a consumer's hash.
namespace consumer {
inline constexpr std::string_view kToken = "token";  // host, pid, start time and boot: unique
inline constexpr std::string_view kHost = "host";
inline constexpr std::string_view kPid = "pid";
inline constexpr std::string_view kStartTicks = "start";  // /proc/<pid>/stat's starttime
inline constexpr std::string_view kBootId = "boot";
inline constexpr std::string_view kPidNamespace = "pid_ns";
}  // namespace consumer

inline std::string progressKey(std::string_view entry_id) {
  return std::string(kProgressPrefix).append(entry_id);
}

// A delivery's identity across stream entries (a dead letter put back, a delivery accepted
// again after its id was forgotten): <provider>::<repo_id>::<delivery id>.
inline std::string deliveryIdentity(std::string_view provider, std::string_view repo_id,
                                    std::string_view delivery_id) {
  std::string identity(provider);
  identity.append("::").append(repo_id).append("::").append(delivery_id);
  return identity;
}

inline std::string seenKey(std::string_view provider, std::string_view repo_id,
                           std::string_view delivery_id) {
  return std::string(kSeenPrefix).append(deliveryIdentity(provider, repo_id, delivery_id));
}

inline std::string checkpointKey(std::string_view identity, std::string_view worker) {
  return std::string(kCheckpointPrefix).append(identity).append("::").append(worker);
}

inline std::string logKey(std::string_view identity) {
  return std::string(kLogPrefix).append(identity);
}

inline std::string logIssueKey(std::string_view issue_key) {
  return std::string(kLogIssuePrefix).append(issue_key);
}

inline std::string consumerKey(std::string_view consumer_name) {
  return std::string(kConsumerPrefix).append(consumer_name);
}

inline std::string leaseKey(std::string_view worker, std::string_view name) {
  return std::string(kLeasePrefix).append(worker).append("::").append(name);
}

inline std::string claimKey(std::string_view worker, std::string_view name) {
  return std::string(kClaimPrefix).append(worker).append("::").append(name);
}

}  // namespace conduit::queue::redis_keys
