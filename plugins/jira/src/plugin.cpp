// The plugin's one exported symbol, conduit_plugin_entry_v1, written by the SDK's macro.
#include "jira_processor.hpp"

CONDUIT_PLUGIN(conduit::jira::JiraProcessor, "jira", "1.0.0", CONDUIT_CAPABILITY_THREAD_SAFE)
