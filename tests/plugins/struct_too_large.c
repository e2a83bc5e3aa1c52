/* A test plugin for the loader: a descriptor larger than this ABI defines. */
#include "test_plugin.h"

EXPORT const conduit_plugin_descriptor* conduit_plugin_entry_v1(void) {
  static const conduit_plugin_descriptor descriptor =
      TEST_DESCRIPTOR(sizeof(conduit_plugin_descriptor) + 16, CONDUIT_ABI_MAJOR, CONDUIT_ABI_MINOR,
                      "struct_too_large", test_process);
  return &descriptor;
}
