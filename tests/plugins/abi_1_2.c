/* A test plugin built against the SDK of ABI 1.2, before the event's host fields (1.3): it reads
 * only the fields 1.2 had, and reports (1.2) what it saw, so that a test sees it run in a newer
 * host. Its descriptor is the same size: 1.3 appended to the event only. */
#include <stdio.h>

#include "test_plugin.h"

typedef struct abi_1_2_instance {
  const conduit_host_api* api;
  conduit_host* host;
} abi_1_2_instance;

static abi_1_2_instance the_instance;

static conduit_instance* abi_1_2_create(const conduit_host_api* api, conduit_host* host,
                                        conduit_message* error) {
  (void)error;
  the_instance.api = api;
  the_instance.host = host;
  return (conduit_instance*)&the_instance;
}

/* The size of conduit_event as a 1.2 plugin was built: up to raw_json. */
#define EVENT_SIZE_1_2 (offsetof(conduit_event, raw_json) + sizeof(conduit_str))

static conduit_outcome abi_1_2_process(conduit_instance* instance, const conduit_event* event,
                                       conduit_delivery* delivery, conduit_result* result) {
  abi_1_2_instance* self = (abi_1_2_instance*)instance;
  char json[512];
  int size;
  (void)result;
  if (event->struct_size < EVENT_SIZE_1_2) return CONDUIT_OUTCOME_FAILED;
  size =
      snprintf(json, sizeof json, "{\"action\":\"seen\",\"kind\":\"%.*s\",\"title\":\"%.*s\"}",
               (int)event->kind.size, event->kind.data, (int)event->title.size, event->title.data);
  if (size < 0 || (size_t)size >= sizeof json) return CONDUIT_OUTCOME_FAILED;
  {
    conduit_str action;
    action.data = json;
    action.size = (size_t)size;
    self->api->report(self->host, delivery, action);
  }
  return CONDUIT_OUTCOME_OK;
}

EXPORT const conduit_plugin_descriptor* conduit_plugin_entry_v1(void) {
  static const conduit_plugin_descriptor descriptor = {sizeof(conduit_plugin_descriptor),
                                                       CONDUIT_ABI_MAJOR,
                                                       2,
                                                       "abi_1_2",
                                                       "1.0.0",
                                                       0,
                                                       0,
                                                       abi_1_2_create,
                                                       0,
                                                       abi_1_2_process,
                                                       0,
                                                       test_destroy};
  return &descriptor;
}
