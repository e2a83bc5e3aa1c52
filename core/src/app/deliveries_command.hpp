#pragma once

#include <optional>
#include <string>
#include <vector>

namespace conduit::app {

// The command line of `conduit deliveries ...` and `conduit dead-letters ...`, as given: the
// commands check what the values mean (cli.cpp has checked which options each action takes).
struct DeliveriesOptions {
  std::string action;                      // list, show, replay, purge
  std::optional<std::string> config_path;  // --config; else the default app.env
  // PROVIDER/REPO_ID/DELIVERY, or a delivery id alone (looked up in the log's index).
  std::vector<std::string> ids;
  std::optional<std::string> status;    // --status: queued, processing, retrying, done, ...
  std::optional<std::string> repo_id;   // --repo
  std::optional<std::string> provider;  // --provider
  std::optional<std::string> kind;      // --kind: pull_request.merged, release.published, ...
  std::optional<std::string> issue;     // --issue: deliveries whose actions named this key
  std::optional<std::string> worker;    // --worker: dead letters of this worker
  // --since, --until: RFC 3339, Unix milliseconds, or a time ago (30s, 15m, 2h, 7d, 2w).
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::optional<std::string> limit;  // --limit: 1 to 10000 (default 50)
  bool json = false;                 // the admin API's `data`, for scripts
  bool payload = false;              // show: the payload too
  bool force = false;                // replay: done and ignored deliveries too
  bool all = false;                  // dead-letters replay and purge: every dead letter
  bool yes = false;                  // purge: do not ask
};

// `conduit deliveries list|show|replay`: the delivery log in Redis, newest first. Returns 0, 1
// when an id matched nothing (or was not replayed) or Redis cannot be reached, 2 for a bad
// command line or config.
int deliveries(const DeliveriesOptions& options);

// `conduit dead-letters list|replay|purge`: the dead letters, put back on the queue or
// discarded. Exit statuses as deliveries(); purge without --yes asks on a terminal and refuses
// (2) elsewhere.
int deadLetters(const DeliveriesOptions& options);

}  // namespace conduit::app
