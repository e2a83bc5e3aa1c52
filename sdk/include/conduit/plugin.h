/*
 * Conduit's plugin ABI: what a processor plugin exports and what the host offers it.
 *
 * A plugin is a shared library `<name>.so` exporting exactly one symbol,
 * `conduit_plugin_entry_v1`, which returns a static descriptor. Everything crosses as C: integers,
 * enums with explicit values, (pointer, size) string views, opaque handles and function pointers.
 * No exception crosses; each side frees only what it allocated.
 *
 * Compatibility (sdk/ABI.md has the rules, the thread table and the changelog): ABI 1 is
 * released, at 1.4. From here on 1.x only grows; conduit_plugin_entry_v1 stays.
 * - The major version is in the entry point's name; the host loads only its own major.
 * - Every struct begins with `uint32_t struct_size` and only grows at its end. Whoever allocates
 *   a struct sets struct_size; whoever reads or fills it touches only the fields struct_size
 *   covers. A plugin built against an older minor works with a newer host. A plugin whose minor
 *   is above the host's is refused, so the host API table a plugin gets always has every
 *   function the plugin knows of. Test for a field added after 1.0 with CONDUIT_STRUCT_HAS.
 * - The host copies the descriptor into a zeroed one of its own (as much as struct_size says),
 *   so a field added after the plugin's minor reads as zero or NULL.
 *
 * This header compiles as C99 and as C++.
 */
#ifndef CONDUIT_PLUGIN_H
#define CONDUIT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define CONDUIT_ABI_MAJOR 1
#define CONDUIT_ABI_MINOR 4

/* Whether the struct at `ptr` (of type `type`, with its struct_size set by whoever allocated it)
 * reaches to the end of `field`: read or fill a field added after 1.0 only when it does.
 *   if (CONDUIT_STRUCT_HAS(event, conduit_event, tag)) ... event->tag ... */
#define CONDUIT_STRUCT_HAS(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof((ptr)->field))

/* The entry point's name, as the host looks it up. */
#define CONDUIT_PLUGIN_ENTRY_SYMBOL "conduit_plugin_entry_v1"

#ifdef __cplusplus
extern "C" {
#endif

/* A run of bytes, not NUL-terminated. OWNERSHIP: whoever hands it over; how long it stays valid
 * is said where it is handed over. An empty view may have data == NULL. */
typedef struct conduit_str {
  const char* data;
  size_t size;
} conduit_str;

/* Opaque handles. A conduit_host is the host's side of one plugin instance; a conduit_delivery is
 * one delivery being processed; a conduit_instance is whatever the plugin's create() returns. */
typedef struct conduit_host conduit_host;
typedef struct conduit_delivery conduit_delivery;
typedef struct conduit_instance conduit_instance;

typedef enum conduit_log_level {
  CONDUIT_LOG_DEBUG = 0,
  CONDUIT_LOG_INFO = 1,
  CONDUIT_LOG_WARN = 2,
  CONDUIT_LOG_ERROR = 3
} conduit_log_level;

/* How a host service call went. */
typedef enum conduit_status {
  CONDUIT_STATUS_OK = 0,
  CONDUIT_STATUS_NOT_FOUND = 1, /* no such key, project, status or event */
  CONDUIT_STATUS_ERROR = 2,     /* the service failed (Redis unreachable, say): retry later */
  CONDUIT_STATUS_BUSY = 3       /* 1.1: a lease another holder keeps (lease_acquire only) */
} conduit_status;

/* What a processor answers for one event. */
typedef enum conduit_outcome {
  CONDUIT_OUTCOME_OK = 0,    /* done: the delivery may be acknowledged for this worker */
  CONDUIT_OUTCOME_RETRY = 1, /* try again later: after retry_after_ms, or the host's backoff */
  CONDUIT_OUTCOME_FAILED = 2 /* failed for good: dead-lettered with the result's message */
} conduit_outcome;

/* Capabilities, or-ed into conduit_plugin_descriptor.capabilities. */
#define CONDUIT_CAPABILITY_THREAD_SAFE (UINT64_C(1) << 0) /* see the descriptor's THREADING */

/* Where a plugin writes why something failed: a buffer the host owns. The plugin copies at most
 * `capacity` bytes of its message into `data` and sets `size` (no terminator needed); a longer
 * message is cut. Valid only during the call it is handed to. */
typedef struct conduit_message {
  char* data;
  size_t capacity;
  size_t size;
} conduit_message;

/* Copies `text` into `message`, cut to its capacity. */
static inline void conduit_message_set(conduit_message* message, const char* text, size_t size) {
  size_t n = size < message->capacity ? size : message->capacity;
  size_t i;
  for (i = 0; i < n; ++i)
    message->data[i] = text[i];
  message->size = n;
}

/* One event of a delivery, as the processor sees it.
 * OWNERSHIP: the host's; every view is valid until process() returns.
 * Views that do not apply to the event kind are empty. */
typedef struct conduit_event {
  uint32_t struct_size;
  uint32_t attempt;                   /* 1 on the first try, 2 on the first retry, ... */
  conduit_str provider;               /* "github", "gitlab", "bitbucket-server", ... */
  conduit_str repo_id;                /* the hook's repo id */
  conduit_str repo_path;              /* "org/repo" */
  conduit_str kind;                   /* "pull_request.merged", "pull_request.opened",
                                         "pull_request.closed", "release.published", "push",
                                         "tag" (1.3), ... */
  conduit_str delivery_id;            /* the code host's id of the delivery */
  conduit_str title;                  /* pull request title */
  conduit_str body;                   /* pull request body */
  conduit_str branch;                 /* pull request head branch, or the pushed branch */
  const conduit_str* commit_messages; /* push: one per commit, oldest first */
  size_t commit_message_count;
  conduit_str release_name; /* release.published */
  conduit_str release_body;
  conduit_str url;      /* the web URL of the pull request, release or push */
  conduit_str author;   /* the login of who merged, published or pushed */
  conduit_str raw_json; /* the whole payload, as the code host sent it */

  /* ---- Added in 1.3. A plugin reads these only when struct_size covers them. ---- */
  conduit_str host_name;  /* the code host as people call it: "GitHub", "GitLab", "Gitea",
                             "Forgejo", "Bitbucket Cloud", "Bitbucket Data Center" */
  conduit_str repository; /* the repository's full path as the payload names it:
                             "group/subgroup/project" (repo_path is the hook's) */
  conduit_str number;     /* pull or merge request: its number in the repository, "12" */
  conduit_str reference;  /* ... as the host writes it: "pull request #12", "merge request !12" */
  conduit_str target_branch; /* pull request: the branch it merges into */
  conduit_str tag;           /* release.*: its tag; tag: the tag pushed */
  conduit_str released_at;   /* release.*: when it was published, as the host wrote it
                                (RFC 3339; GitLab: "2021-02-25 21:23:34 UTC") */
  /* push: per commit, in the order of commit_messages and as many (commit_message_count); an
   * entry is empty where the host does not send it (Bitbucket Data Center sends no commits). */
  const conduit_str* commit_ids;     /* the full commit id */
  const conduit_str* commit_urls;    /* its web page */
  const conduit_str* commit_authors; /* its author's name */
} conduit_event;

/* The answer of a state machine query. The plugin allocates it and sets struct_size; the host
 * fills the fields it covers. The views are the host's, valid until process() returns. */
typedef struct conduit_next {
  uint32_t struct_size;
  int end;              /* nonzero: the transition is <end>, nothing comes after */
  conduit_str state_id; /* otherwise the target state id ... */
  conduit_str status;   /* ... and its Jira status name */
  conduit_str error;    /* on CONDUIT_STATUS_NOT_FOUND: why, for people */
} conduit_next;

/* Allocated by the plugin, filled by the host, as conduit_next. */
typedef struct conduit_path {
  uint32_t struct_size;
  const conduit_str* events; /* the shortest sequence of events; none when already there */
  size_t event_count;
} conduit_path;

/* The services the host offers a plugin instance, handed to create(). OWNERSHIP: the host's,
 * valid until destroy() returns. Every function takes the instance's conduit_host handle.
 * THREADING (1.4): every function may be called from any thread, at any time between create()
 * and destroy(); those taking a conduit_delivery only during process() for that delivery (from
 * any thread: a plugin may do a delivery's work on threads of its own, as long as process()
 * waits for them before it returns); the leases during a process() call of the instance, that
 * is while a call of its process() has begun and not returned (the host counts the calls
 * running). A delivery handle used after its process() returned is refused with ERROR.
 * APPEND-ONLY: new functions are added at the end; struct_size tells which the host has. */
typedef struct conduit_host_api {
  uint32_t struct_size;

  /* Writes a line to the host's log, attributed to the plugin. `message` is copied. */
  void (*log)(conduit_host* host, conduit_log_level level, conduit_str message);

  /* Adds `delta` to the counter `metric` (letters, digits, `_` and `.`), for the host's metrics. */
  void (*count)(conduit_host* host, conduit_str metric, int64_t delta);

  /* The value of an app-config key the plugin declared in its descriptor's config_keys.
   * *value: OWNERSHIP the host's, valid until destroy(). NOT_FOUND when the key is unset. */
  conduit_status (*config_get)(conduit_host* host, conduit_str key, conduit_str* value);

  /* From the Jira status `status`, where does `event` lead in `project`'s state machine, for
   * `delivery`? Project keys and statuses match without regard to case. The answers for one
   * delivery all come from the state machines in force when its process() began (a reload,
   * SIGHUP, takes effect between deliveries). *answer: valid until process() returns.
   * THREADING: during process() for `delivery`, from any thread.
   * 1.4: `delivery` was added. A host hands a plugin built for 1.0 to 1.3 a table whose
   * state_next and state_path have their old shape (conduit_state_next_1_0_fn below). */
  conduit_status (*state_next)(conduit_host* host, conduit_delivery* delivery, conduit_str project,
                               conduit_str status, conduit_str event, conduit_next* answer);

  /* The shortest sequence of events from `from_status` to the state `to_state`. NOT_FOUND when
   * unreachable. *path: valid until process() returns. THREADING: as state_next. */
  conduit_status (*state_path)(conduit_host* host, conduit_delivery* delivery, conduit_str project,
                               conduit_str from_status, conduit_str to_state, conduit_path* path);

  /* A small store per delivery and worker, kept (in Redis) until the delivery is acknowledged or
   * dead-lettered, so that a retry or another worker process knows what was already done.
   * Keys and values are short strings (at most 256 and 4096 bytes). Both are copied.
   * ERROR when the store cannot be reached: answer RETRY. */
  conduit_status (*checkpoint_put)(conduit_host* host, conduit_delivery* delivery, conduit_str key,
                                   conduit_str value);

  /* *value: valid until process() returns. NOT_FOUND when nothing was put under `key`. */
  conduit_status (*checkpoint_get)(conduit_host* host, conduit_delivery* delivery, conduit_str key,
                                   conduit_str* value);

  /* ---- Added in 1.1. A plugin calls these only when struct_size covers them
   * (CONDUIT_STRUCT_HAS(api, conduit_host_api, lease_release)). ---- */

  /* Leases: mutual exclusion on a name (a Jira issue key, say) across the threads of a process
   * and across worker processes on any machine, kept in Redis and scoped to the instance's
   * worker. A lease ends when released, or by itself `ttl_ms` after it was taken, so that a
   * holder that died (kill -9, a lost machine) blocks the name for at most that long: choose a
   * ttl longer than the work done under the lease can take (bound that work with deadlines).
   *
   * Required: all three, in a 1.1 host. THREADING (1.4): from any thread, during a process()
   * call of the instance (lease_acquire answers ERROR outside one). A lease taken on the thread
   * running process() and still held when it returns is released then; one taken on a thread of
   * the plugin's own is the plugin's to release (else it ends at its ttl). Either may be
   * extended and released from any thread. Before 1.4: only on the thread running process().
   *
   * lease_acquire takes the lease `name` (1 to 256 bytes) for `ttl_ms` (1 to 3600000), waiting
   * up to `wait_ms` (at most 600000; 0: a single try) while another holds it.
   * Return value: OK, with *token set: the lease is this caller's until released or expired.
   * BUSY: another still held it when `wait_ms` ran out (answer RETRY, say). ERROR: Redis could
   * not be reached, or an argument is out of range (the host logs which): answer RETRY.
   * *token: OWNERSHIP the host's; the proof of holding, handed to lease_release. Taken on the
   * thread running process(): valid until process() returns. Taken on a thread of the plugin's
   * own: valid until that thread's next lease_acquire (the host cannot tell which process()
   * call the thread works for): copy it. */
  conduit_status (*lease_acquire)(conduit_host* host, conduit_str name, uint32_t ttl_ms,
                                  uint32_t wait_ms, conduit_str* token);

  /* Keeps the lease `name` for `ttl_ms` (1 to 3600000) from now, if `token` still holds it: a
   * holder extends it before each step it protects, so that the ttl can stay short (a dead
   * holder blocks the name only that long) while the work under it is long. `token` is copied.
   * It may be the token of an earlier attempt at the same delivery, kept in a checkpoint, whose
   * process died holding the lease: while that lease has not expired, it is the caller's again
   * (and released when this process() returns, as one taken now).
   * Return value: OK when extended; NOT_FOUND when the lease had expired (and may be another's
   * now: stop, and answer RETRY); ERROR when Redis could not be reached. */
  conduit_status (*lease_extend)(conduit_host* host, conduit_str name, conduit_str token,
                                 uint32_t ttl_ms);

  /* Ends the lease `name` if `token` still holds it (an atomic compare-and-delete: a lease that
   * expired and was taken by another is left to its new holder). `token` is copied.
   * Return value: OK when released; NOT_FOUND when the lease had expired (whatever was done
   * under it after that was not protected: worth a warning); ERROR when Redis could not be
   * reached (the lease then ends at its expiry). */
  conduit_status (*lease_release)(conduit_host* host, conduit_str name, conduit_str token);

  /* ---- Added in 1.2. A plugin calls it only when CONDUIT_STRUCT_HAS(api, ..., report). ---- */

  /* Tells the host what process() did for `delivery`, one action at a time, for the delivery log
   * (what an operator sees of the delivery: `conduit deliveries show`, the admin API, the web
   * page). `action` is a JSON object of at most 4096 bytes, in UTF-8, with a string member
   * `action` naming what was done ("moved", "skipped", "ignored", ...) and other members that are
   * strings or numbers, each name once: no nested objects, arrays, booleans or nulls. A member
   * `issue` names the issue it concerns (an issue key: the log finds deliveries by it); an
   * `ignored` action's `reason` says why the event was nothing to do, e.g.
   *   {"action":"moved","issue":"SOC-1","from":"To Do","to":"In Progress"}
   *   {"action":"ignored","reason":"pull request closed without merge"}
   * Reporting nothing is fine (the delivery counts as done); report `ignored` when the event had
   * nothing for the plugin to do. At most 200 actions per process() call.
   * `action` is copied. THREADING: only during process() for that delivery, from any thread.
   * Return value: OK when kept; ERROR when refused (not an object as above, too large, or past
   * 200 in this call: the host logs why, once per call) or called outside process(). A refused
   * report changes nothing else: the plugin's answer stands. */
  conduit_status (*report)(conduit_host* host, conduit_delivery* delivery, conduit_str action);

  /* ---- Added in 1.4. A plugin calls it only when CONDUIT_STRUCT_HAS(api, ..., claim). ---- */

  /* Claims `name` (1 to 256 bytes) for `delivery`, in this worker, for the worker's
   * checkpoint_ttl_hours: the first delivery to claim a name keeps it that long. A processor
   * claims what must happen once across deliveries before doing it: the smart commit commands
   * of a commit, say, which a rebase or a merge pushes again in a delivery of its own.
   * Return value: OK when the name is this delivery's, claimed now or by an earlier attempt at
   * the same delivery (a retry, a replay: its checkpoints tell how far that one got). BUSY when
   * another delivery claimed it first: *owner (unless `owner` is NULL) is that delivery's
   * identity, "<provider>::<repo_id>::<delivery id>", valid until process() returns. ERROR when
   * Redis could not be reached or `name` is out of range (the host logs which): answer RETRY.
   * A claim is never released: it ends with its expiry. Names are the plugin's to choose and
   * share one space per worker: prefix them ("smart:<commit id>"). Claim, then do the work,
   * keeping how far it got in checkpoints: a delivery that claimed and then failed is retried
   * under the same identity, so its claim stays its own.
   * THREADING: during process() for `delivery`, from any thread. */
  conduit_status (*claim)(conduit_host* host, conduit_delivery* delivery, conduit_str name,
                          conduit_str* owner);
} conduit_host_api;

/* state_next and state_path as ABI 1.0 to 1.3 declared them, without the delivery: what a host
 * puts in those two slots of the table it hands a plugin built for one of those minors. They
 * answer only on the thread running process(). */
typedef conduit_status (*conduit_state_next_1_0_fn)(conduit_host* host, conduit_str project,
                                                    conduit_str status, conduit_str event,
                                                    conduit_next* answer);
typedef conduit_status (*conduit_state_path_1_0_fn)(conduit_host* host, conduit_str project,
                                                    conduit_str from_status, conduit_str to_state,
                                                    conduit_path* path);

/* A worker's configuration, handed to configure(). OWNERSHIP: the host's; valid until
 * configure() returns: copy what you keep. */
typedef struct conduit_config {
  uint32_t struct_size;
  conduit_str worker_name;     /* the workers.yaml entry's name */
  conduit_str worker_json;     /* the whole entry as a JSON object (statefile, projects, and the
                                  plugin's own keys such as triggers) */
  const conduit_str* projects; /* the entry's projects, as written */
  size_t project_count;
} conduit_config;

/* What process() answers besides its outcome. The host allocates it and sets struct_size; the
 * plugin fills the fields it covers. */
typedef struct conduit_result {
  uint32_t struct_size;
  uint32_t retry_after_ms; /* RETRY: the delay the plugin asks for; 0 leaves it to the host */
  conduit_message message; /* RETRY and FAILED: why, for logs and the dead-letter stream */
} conduit_result;

/* What a plugin is, returned by conduit_plugin_entry_v1(). OWNERSHIP: the plugin's; it must stay
 * valid, unchanged, until the library is unloaded (a static object).
 * THREADING: the host calls create, configure, shutdown and destroy of one library one at a
 * time. Without CONDUIT_CAPABILITY_THREAD_SAFE it makes at most one call into the library at a
 * time, process() included, across all its instances; with it, process() may run on several
 * threads at once, on one instance or several. */
typedef struct conduit_plugin_descriptor {
  uint32_t struct_size;           /* sizeof(conduit_plugin_descriptor) as the plugin was built */
  uint16_t abi_major;             /* CONDUIT_ABI_MAJOR as the plugin was built */
  uint16_t abi_minor;             /* CONDUIT_ABI_MINOR as the plugin was built */
  const char* name;               /* Required. Equals the file name without ".so": jira */
  const char* version;            /* Required. The plugin's own version, for logs: "1.2.0" */
  uint64_t capabilities;          /* CONDUIT_CAPABILITY_* or-ed together */
  const char* const* config_keys; /* Optional. NULL-terminated app-config keys the plugin reads;
                                     the host counts them as known keys */

  /* Required. Makes an instance for one worker. `api` and `host` stay valid until destroy().
   * Returns NULL on failure, with nothing to free and the reason in *error. Called once per
   * instance, before anything else on it. */
  conduit_instance* (*create)(const conduit_host_api* api, conduit_host* host,
                              conduit_message* error);

  /* Optional. Reads the worker's configuration: CONDUIT_STATUS_OK, or ERROR with the reason in
   * *error, which stops the host's start-up. Called once, after create(). */
  conduit_status (*configure)(conduit_instance* instance, const conduit_config* config,
                              conduit_message* error);

  /* Required. Handles one event. `delivery` identifies it to the checkpoint functions. On RETRY
   * and FAILED, result->message says why; on RETRY, result->retry_after_ms may ask for a delay. */
  conduit_outcome (*process)(conduit_instance* instance, const conduit_event* event,
                             conduit_delivery* delivery, conduit_result* result);

  /* Optional. The host is stopping: no process() call is running or will come; finish
   * background work. destroy() follows. */
  void (*shutdown)(conduit_instance* instance);

  /* Required. Frees the instance and all it owns. Called last, once. */
  void (*destroy)(conduit_instance* instance);
} conduit_plugin_descriptor;

/* The one symbol a plugin exports. */
typedef const conduit_plugin_descriptor* (*conduit_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* CONDUIT_PLUGIN_H */
