/* Shared by the tiny test plugins: a valid descriptor that each file breaks one way. */
#ifndef CONDUIT_TEST_PLUGIN_H
#define CONDUIT_TEST_PLUGIN_H

#include <conduit/plugin.h>

#define EXPORT __attribute__((visibility("default")))

static inline conduit_instance* test_create(const conduit_host_api* api, conduit_host* host,
                                            conduit_message* error) {
  (void)api;
  (void)host;
  (void)error;
  return (conduit_instance*)0;
}

static inline conduit_outcome test_process(conduit_instance* instance, const conduit_event* event,
                                           conduit_delivery* delivery, conduit_result* result) {
  (void)instance;
  (void)event;
  (void)delivery;
  (void)result;
  return CONDUIT_OUTCOME_OK;
}

static inline void test_destroy(conduit_instance* instance) {
  (void)instance;
}

#define TEST_DESCRIPTOR(size, major, minor, name, process) \
  { (size), (major), (minor), (name), "1.0.0", 0, 0, test_create, 0, (process), 0, test_destroy }

#endif
