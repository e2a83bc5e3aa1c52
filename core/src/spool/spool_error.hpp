#pragma once

#include <stdexcept>
#include <string>

namespace conduit::spool {

// The spool folder cannot be used: it cannot be created or written, or another process holds
// its lock. A configuration problem: `conduit serve` exits with status 2, and the message names
// the folder.
class SpoolUnusable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A spool file could not be read or written.
class SpoolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace conduit::spool
