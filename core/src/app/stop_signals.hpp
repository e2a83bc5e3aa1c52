#pragma once

#include <signal.h>

namespace conduit::app {

// Blocks SIGTERM, SIGINT and SIGHUP in this thread and every thread started after it, so that
// they are taken by waitForSignal() instead of killing the process mid-request; ignores SIGPIPE,
// so that a client hanging up mid-answer does not kill it either. Call before starting threads.
sigset_t blockStopSignals();

// Waits for SIGTERM, SIGINT or SIGHUP (`systemctl reload`) and returns which.
int waitForSignal(const sigset_t& signals);

}  // namespace conduit::app
