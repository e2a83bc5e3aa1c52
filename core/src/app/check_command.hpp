#pragma once

#include <string>

#include "app/default_paths.hpp"

namespace conduit::app {

struct CheckOptions {
  std::string hcl_dir = defaultHclDir();
  std::string workers_file = defaultWorkersFile();
};

// `conduit check`: validates the state machines and the workers file; prints one summary line
// per provisioner and returns 0, or prints every error and returns 1.
int check(const CheckOptions& options);

struct NextOptions {
  std::string hcl_dir = defaultHclDir();
  std::string project;
  std::string status;
  std::string event = "next";
};

// `conduit next`: prints the Jira status that `event` leads to from `status` in `project`'s
// machine (or `<end>`) and returns 0; prints the error and returns 1.
int next(const NextOptions& options);

}  // namespace conduit::app
