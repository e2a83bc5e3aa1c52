/* A test plugin for the loader: built for another ABI major. */
#include "test_plugin.h"

EXPORT const conduit_plugin_descriptor* conduit_plugin_entry_v1(void) {
  static const conduit_plugin_descriptor descriptor =
      TEST_DESCRIPTOR(sizeof(conduit_plugin_descriptor), CONDUIT_ABI_MAJOR + 1, 0,
                      "abi_major_mismatch", test_process);
  return &descriptor;
}
