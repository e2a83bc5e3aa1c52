/* A test plugin for the loader: the required process() missing. */
#include "test_plugin.h"

EXPORT const conduit_plugin_descriptor* conduit_plugin_entry_v1(void) {
  static const conduit_plugin_descriptor descriptor =
      TEST_DESCRIPTOR(sizeof(conduit_plugin_descriptor), CONDUIT_ABI_MAJOR, CONDUIT_ABI_MINOR,
                      "missing_process", 0);
  return &descriptor;
}
