#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/redis_keys.hpp"
#include "store/redis_pool.hpp"

// The delivery log: what happened to each accepted delivery, kept in Redis for
// `delivery_log_hours` and at most `delivery_log_max` records (docs/queue.md, "The delivery
// log", is the contract for its keys and fields). The server writes a record when it queues a
// delivery (in the enqueue step, one atomic step with the entry; the payload is copied in when
// the entry leaves the stream); the worker updates it as attempts start and end; the admin routes,
// the `conduit deliveries` and `conduit dead-letters` commands and the web page read it and replay
// from it.
namespace conduit::queue {

// Where a delivery stands. The names are the API's and the record's `status` field.
enum class DeliveryStatus { kQueued, kProcessing, kRetrying, kDone, kDead, kIgnored };

std::string_view statusName(DeliveryStatus status);
// nullopt for anything but the six names above.
std::optional<DeliveryStatus> parseStatus(std::string_view name);

struct LogSettings {
  std::chrono::hours lifetime{168};  // delivery_log_hours
  int64_t max_records = 100000;      // delivery_log_max
};

// One attempt of one worker at a delivery.
struct WorkerAttempt {
  int64_t at_ms = 0;    // when it ended
  std::string outcome;  // "ok", "retry" or "failed"
  std::string message;  // the plugin's message (retry, failed), or empty
};

// What one worker (a workers.yaml entry) made of a delivery.
struct WorkerRecord {
  std::string worker;
  std::string outcome;  // the last attempt's: "ok", "retry" or "failed"; "" before any
  std::string message;  // the last attempt's message
  std::vector<WorkerAttempt> attempts;
  // What its plugin reported it did, each a JSON object with a string `action` ("moved",
  // "already_there", "end", "skipped", "failed", "commented", "ignored", or a third party's).
  std::vector<std::string> actions;
};

// One record of the delivery log.
struct DeliveryRecord {
  std::string provider;
  std::string repo_id;
  std::string repo_path;
  std::string event;        // the code host's event header: pull_request
  std::string kind;         // normalized by the worker: pull_request.merged; "" until then
  std::string url;          // the web page of the pull request, release or push (worker)
  std::string delivery_id;  // the code host's
  std::string entry_id;     // the stream entry it is (or last was) queued as
  int64_t size_bytes = 0;   // of the payload
  int64_t accepted_at_ms = 0;
  int64_t updated_at_ms = 0;
  DeliveryStatus status = DeliveryStatus::kQueued;
  // ignored: why no worker had anything to do; retrying and dead: the last error.
  std::string reason;
  int64_t next_attempt_ms = 0;      // retrying: when the next attempt is due; 0 otherwise
  int attempts = 0;                 // attempts that started
  int replays = 0;                  // times it was put back on the queue by a replay
  std::vector<std::string> issues;  // issue keys the workers' actions named, uppercase, sorted
  std::vector<WorkerRecord> workers;
  std::optional<std::string> payload;  // only when asked for
};

// A delivery's identity: the key of its record, the same across replays.
struct DeliveryKey {
  std::string provider;
  std::string repo_id;
  std::string delivery_id;
};

// Filters of a listing; empty or 0 means any. Times are Unix milliseconds, inclusive.
struct DeliveryFilter {
  std::string provider;
  std::string repo_id;
  std::optional<DeliveryStatus> status;
  std::string kind;
  std::string issue;   // an issue key, matched without regard to case
  std::string worker;  // dead letters only: the worker that failed
  int64_t since_ms = 0;
  int64_t until_ms = 0;
  int limit = 50;      // 1 to 500
  std::string cursor;  // a page's next_cursor, or empty for the newest
};

struct DeliveryPage {
  std::vector<DeliveryRecord> records;  // newest first, with their workers; payload left out
  std::string next_cursor;              // empty when there is nothing older
};

// One entry of the dead-letter stream: one worker that failed for good on a delivery.
struct DeadLetter {
  std::string id;  // the dead-letter stream entry id
  DeliveryKey key;
  std::string repo_path;
  std::string event;
  std::string entry_id;  // the delivery's stream entry when it failed
  std::string worker;
  std::string error;
  int attempts = 0;
  int64_t received_at_ms = 0;
  int64_t failed_at_ms = 0;
};

struct DeadLetterPage {
  std::vector<DeadLetter> letters;  // newest first
  std::string next_cursor;
};

// Which dead letters a bulk replay puts back: the listed deliveries, or those matching the
// filter's since/until/provider/repo_id/worker (all of them when none is set).
struct DeadLetterSelection {
  std::vector<DeliveryKey> deliveries;
  DeliveryFilter filter;
};

// How a replay of one delivery went.
enum class ReplayOutcome {
  kQueued,      // put back on the queue under its identity
  kNotFound,    // no record (never accepted, or past delivery_log_hours / delivery_log_max)
  kNotFailed,   // done or ignored, and `force` not given
  kInProgress,  // still queued, processing or retrying: it needs no replay
};

struct ReplayResult {
  ReplayOutcome outcome = ReplayOutcome::kNotFound;
  std::string entry_id;  // kQueued: the new stream entry
};

// What a delivery whose workers all ended ok is logged as (docs/queue.md): ignored when every
// worker reported actions and each was `ignored`, with `reason` set to their reasons joined
// ("jira: pull request closed without merge"); done otherwise (a worker that reports nothing,
// an ABI 1.0/1.1 plugin, has done its work), `reason` untouched.
DeliveryStatus decideLoggedStatus(const std::vector<WorkerRecord>& workers, std::string* reason);

class DeliveryLog {
 public:
  DeliveryLog(store::RedisPool& redis, LogSettings settings);

  // ---- Reading (admin routes, commands, web page). Each throws store::RedisUnavailable. ----

  // Newest first (by acceptance), filtered. Finds up to `limit` records (clamped to 1..500),
  // looking at no more than 2000 per call: a page may hold fewer than `limit`, even none, and
  // still have a next_cursor. Throws std::invalid_argument("cursor") for a cursor it did not
  // give out (answer 400 naming `cursor`).
  DeliveryPage list(const DeliveryFilter& filter);
  // One record whole (its workers, attempts and actions), with its payload when asked for.
  std::optional<DeliveryRecord> find(const DeliveryKey& key, bool with_payload);

  // Newest first; filters provider, repo_id, worker, since/until (on failed_at_ms), limit and
  // cursor (a dead-letter id), looking at no more than 1000 per call as list() does. Throws
  // std::invalid_argument("cursor") for a cursor that is not a stream id.
  DeadLetterPage listDeadLetters(const DeliveryFilter& filter);

  // The deliveries a bare delivery id (as the code host shows it, without provider and repo)
  // names, in the log's index or the dead letters: none, one, or several (the same id sent to
  // two hooks). For the commands' `ID` arguments.
  std::vector<DeliveryKey> keysOf(std::string_view delivery_id);

  // ---- Changing (admin routes, commands, web page). ----

  // Puts a delivery back on the queue under its identity (the stream entry's fields as it was
  // accepted): dead ones always; done and ignored ones only with `force`. A dead delivery's
  // dead letters are removed in the same step, and the workers that had succeeded are marked
  // done for the new entry, so that only those that failed run again.
  ReplayResult replay(const DeliveryKey& key, bool force);
  // Replays each selected dead letter's delivery once, its dead letters removed (a delivery
  // whose record is gone is put back from its dead letter's own fields, every worker running
  // again; one whose record says it is queued, processing or retrying is left as it is).
  // Returns how many deliveries were put back.
  int replayDeadLetters(const DeadLetterSelection& selection);
  // Removes every dead letter of the delivery for good; false when it had none.
  bool discardDeadLetters(const DeliveryKey& key);

  // ---- The worker's side (delivery_worker.cpp). Records past their life are not made again. ----

  // Both update the record only while it exists and its `entry` is `entry_id` (a record of a
  // delivery accepted again since is not written by the older entry's attempts).

  // An attempt starts: status processing, attempts, the kind the payload normalized to and the
  // web page of what it is about (each left as it is when empty).
  void attemptStarted(const DeliveryKey& key, std::string_view entry_id, int attempt,
                      std::string_view kind, std::string_view url = {});
  // An attempt ended: each worker's outcome (with its actions) appended, the delivery's status
  // (retrying with next_attempt_ms, done, dead or ignored with its reason), and the issue keys
  // the actions named added to the record and to the issue index. An answer's `attempts` are
  // those to append; when empty, one is made of its outcome and message, at now. Pass kDone
  // when every worker has ended ok: the record is then marked done or ignored by
  // decideLoggedStatus() over every worker's part, earlier attempts' included. An answer the
  // same as the last one recorded (a resend) is not appended twice.
  void attemptEnded(const DeliveryKey& key, std::string_view entry_id,
                    const std::vector<WorkerRecord>& answers, DeliveryStatus status,
                    std::string_view reason, int64_t next_attempt_ms);

  const LogSettings& settings() const { return settings_; }

 private:
  store::RedisPool& redis_;
  LogSettings settings_;
};

}  // namespace conduit::queue
