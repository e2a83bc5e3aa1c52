/* A test plugin built against the SDK of ABI 1.3, before state_next and state_path took the
 * delivery (1.4): it declares the host API table as 1.3's header did and calls the state
 * machine queries the 1.3 way, on the thread running process(), so that a test sees a 1.4 host
 * serve it through the table it hands older plugins. It reports what it was answered. */
#include <stdio.h>

#include "test_plugin.h"

/* conduit_host_api as ABI 1.3 declared it: state_next and state_path without the delivery, and
 * report its last function. */
typedef struct host_api_1_3 {
  uint32_t struct_size;
  void (*log)(conduit_host* host, conduit_log_level level, conduit_str message);
  void (*count)(conduit_host* host, conduit_str metric, int64_t delta);
  conduit_status (*config_get)(conduit_host* host, conduit_str key, conduit_str* value);
  conduit_status (*state_next)(conduit_host* host, conduit_str project, conduit_str status,
                               conduit_str event, conduit_next* answer);
  conduit_status (*state_path)(conduit_host* host, conduit_str project, conduit_str from_status,
                               conduit_str to_state, conduit_path* path);
  conduit_status (*checkpoint_put)(conduit_host* host, conduit_delivery* delivery, conduit_str key,
                                   conduit_str value);
  conduit_status (*checkpoint_get)(conduit_host* host, conduit_delivery* delivery, conduit_str key,
                                   conduit_str* value);
  conduit_status (*lease_acquire)(conduit_host* host, conduit_str name, uint32_t ttl_ms,
                                  uint32_t wait_ms, conduit_str* token);
  conduit_status (*lease_extend)(conduit_host* host, conduit_str name, conduit_str token,
                                 uint32_t ttl_ms);
  conduit_status (*lease_release)(conduit_host* host, conduit_str name, conduit_str token);
  conduit_status (*report)(conduit_host* host, conduit_delivery* delivery, conduit_str action);
} host_api_1_3;

typedef struct abi_1_3_instance {
  const host_api_1_3* api;
  conduit_host* host;
} abi_1_3_instance;

static abi_1_3_instance the_instance;

static conduit_instance* abi_1_3_create(const conduit_host_api* api, conduit_host* host,
                                        conduit_message* error) {
  (void)error;
  the_instance.api = (const host_api_1_3*)(const void*)api;
  the_instance.host = host;
  return (conduit_instance*)&the_instance;
}

static conduit_str text(const char* s) {
  conduit_str view;
  size_t n = 0;
  while (s[n] != '\0')
    ++n;
  view.data = s;
  view.size = n;
  return view;
}

/* From the status in the event's title, where "next" leads, and how far "in_progress" is (the
 * error's length only: it quotes the status, which would need escaping in JSON). */
static conduit_outcome abi_1_3_process(conduit_instance* instance, const conduit_event* event,
                                       conduit_delivery* delivery, conduit_result* result) {
  abi_1_3_instance* self = (abi_1_3_instance*)instance;
  conduit_next answer = {0};
  conduit_path path = {0};
  conduit_status next_status;
  conduit_status path_status;
  char json[512];
  int size;
  (void)result;
  if (self->api->struct_size < sizeof(host_api_1_3)) return CONDUIT_OUTCOME_FAILED;
  answer.struct_size = sizeof answer;
  path.struct_size = sizeof path;
  next_status = self->api->state_next(self->host, text("SOC"), event->title, text("next"), &answer);
  path_status =
      self->api->state_path(self->host, text("SOC"), event->title, text("in_progress"), &path);
  size = snprintf(json, sizeof json,
                  "{\"action\":\"answered\",\"next\":%d,\"status\":\"%.*s\",\"error_bytes\":%d,"
                  "\"path\":%d,\"events\":%d,\"table\":%u}",
                  (int)next_status, (int)answer.status.size,
                  answer.status.data ? answer.status.data : "", (int)answer.error.size,
                  (int)path_status, (int)path.event_count, (unsigned)self->api->struct_size);
  if (size < 0 || (size_t)size >= sizeof json) return CONDUIT_OUTCOME_FAILED;
  self->api->report(self->host, delivery, text(json));
  return CONDUIT_OUTCOME_OK;
}

EXPORT const conduit_plugin_descriptor* conduit_plugin_entry_v1(void) {
  static const conduit_plugin_descriptor descriptor = {sizeof(conduit_plugin_descriptor),
                                                       CONDUIT_ABI_MAJOR,
                                                       3,
                                                       "abi_1_3",
                                                       "1.0.0",
                                                       0,
                                                       0,
                                                       abi_1_3_create,
                                                       0,
                                                       abi_1_3_process,
                                                       0,
                                                       test_destroy};
  return &descriptor;
}
