/* Compiled as strict C99 by the build: proves that conduit/plugin.h is plain C. */
#include <conduit/plugin.h>

static conduit_instance* create(const conduit_host_api* api, conduit_host* host,
                                conduit_message* error) {
  static const char kWhy[] = "nothing to create";
  (void)api;
  (void)host;
  conduit_message_set(error, kWhy, sizeof kWhy - 1);
  return NULL;
}

static conduit_outcome process(conduit_instance* instance, const conduit_event* event,
                               conduit_delivery* delivery, conduit_result* result) {
  (void)instance;
  (void)event;
  (void)delivery;
  result->retry_after_ms = 0;
  return CONDUIT_OUTCOME_OK;
}

static void destroy(conduit_instance* instance) {
  (void)instance;
}

const conduit_plugin_descriptor* conduit_plugin_header_c99_descriptor(void);

const conduit_plugin_descriptor* conduit_plugin_header_c99_descriptor(void) {
  static const conduit_plugin_descriptor descriptor = {sizeof(conduit_plugin_descriptor),
                                                       CONDUIT_ABI_MAJOR,
                                                       CONDUIT_ABI_MINOR,
                                                       "c99",
                                                       "1.0.0",
                                                       0,
                                                       NULL,
                                                       create,
                                                       NULL,
                                                       process,
                                                       NULL,
                                                       destroy};
  return &descriptor;
}
