/* A test plugin for the loader: a library that exports no conduit_plugin_entry_v1. */
#include "test_plugin.h"

EXPORT int some_other_function(void) {
  return 42;
}
