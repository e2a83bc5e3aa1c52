/* A test plugin for the loader: one built against the SDK of ABI 1.1, before `report` (1.2). Its
 * descriptor is the same size: 1.2 appended to the host API table only. */
#include "test_plugin.h"

EXPORT const conduit_plugin_descriptor* conduit_plugin_entry_v1(void) {
  static const conduit_plugin_descriptor descriptor = TEST_DESCRIPTOR(
      sizeof(conduit_plugin_descriptor), CONDUIT_ABI_MAJOR, 1, "abi_1_1", test_process);
  return &descriptor;
}
