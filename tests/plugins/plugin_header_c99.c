/* Compiled as strict C99 by the build: proves that conduit/plugin.h is plain C. */
#include <conduit/plugin.h>

static conduit_instance* create(const conduit_host_api* api, conduit_host* host) {
  (void)api;
  (void)host;
  return NULL;
}

static conduit_outcome process(conduit_instance* instance, const conduit_event* event,
                               conduit_delivery* delivery, uint32_t* retry_after_ms) {
  (void)instance;
  (void)event;
  (void)delivery;
  *retry_after_ms = 0;
  return CONDUIT_OUTCOME_OK;
}

static void destroy(conduit_instance* instance) {
  (void)instance;
}

static const char* last_error(conduit_instance* instance) {
  (void)instance;
  return NULL;
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
                                                       destroy,
                                                       last_error};
  return &descriptor;
}

int conduit_plugin_header_c99_host_has_log(const conduit_host_api* api);

int conduit_plugin_header_c99_host_has_log(const conduit_host_api* api) {
  return CONDUIT_HOST_HAS(api, log);
}
