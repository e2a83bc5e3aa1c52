#pragma once

namespace conduit::app {

// Exit statuses of the `conduit` command; docs/cli.md lists them.
enum ExitStatus : int {
  kExitOk = 0,
  kExitFailure = 1,       // could not run: the port is taken, for instance
  kExitUsageOrConfig = 2  // a bad command line or configuration; the message says what to fix
};

// Runs the command line (`conduit help` lists the commands; docs/cli.md describes them).
// Returns the exit status.
int runCli(int argc, char** argv);

}  // namespace conduit::app
