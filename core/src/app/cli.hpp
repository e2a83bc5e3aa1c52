#pragma once

namespace conduit::app {

// Exit statuses of the `conduit` command; docs/cli.md lists them.
enum ExitStatus : int {
  kExitOk = 0,
  kExitFailure = 1,  // could not run: the port is taken, for instance
  // A bad command line or configuration (a spool_dir another process holds, too); the message
  // says what to fix.
  kExitUsageOrConfig = 2
};

// Runs the command line (`conduit help` lists the commands; docs/cli.md describes them).
// Returns the exit status.
int runCli(int argc, char** argv);

}  // namespace conduit::app
