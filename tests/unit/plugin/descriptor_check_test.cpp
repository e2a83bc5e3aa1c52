#include "plugin/descriptor_check.hpp"

#include <doctest/doctest.h>

using conduit::plugin::checkDescriptor;

namespace {

conduit_instance* create(const conduit_host_api*, conduit_host*, conduit_message*) {
  return nullptr;
}
conduit_outcome process(conduit_instance*, const conduit_event*, conduit_delivery*,
                        conduit_result*) {
  return CONDUIT_OUTCOME_OK;
}
void destroy(conduit_instance*) {}

// A descriptor that passes, to break one thing at a time.
conduit_plugin_descriptor valid() {
  conduit_plugin_descriptor d{};
  d.struct_size = sizeof(conduit_plugin_descriptor);
  d.abi_major = CONDUIT_ABI_MAJOR;
  d.abi_minor = CONDUIT_ABI_MINOR;
  d.name = "jira";
  d.version = "1.0.0";
  d.create = create;
  d.process = process;
  d.destroy = destroy;
  return d;
}

}  // namespace

TEST_CASE("descriptor: a well-formed descriptor of the name asked for passes") {
  auto d = valid();
  CHECK_FALSE(checkDescriptor(&d, "jira").has_value());
  d.configure = nullptr;  // optional functions may be missing
  d.shutdown = nullptr;
  CHECK_FALSE(checkDescriptor(&d, "jira").has_value());
  d.abi_minor = 0;  // built before leases (1.1): still loads
  CHECK_FALSE(checkDescriptor(&d, "jira").has_value());
  d.abi_minor = 1;  // built before reports (1.2): still loads
  CHECK_FALSE(checkDescriptor(&d, "jira").has_value());
}

TEST_CASE("descriptor: each refusal names the failed check") {
  CHECK(checkDescriptor(nullptr, "jira") == "the entry point returned no descriptor");

  auto major = valid();
  major.abi_major = 2;
  CHECK(checkDescriptor(&major, "jira") ==
        "the plugin was built for ABI major 2; this conduit speaks ABI 1.4");

  auto minor = valid();
  minor.abi_minor = CONDUIT_ABI_MINOR + 1;
  CHECK(checkDescriptor(&minor, "jira")->find("newer than this conduit's 1.4: upgrade conduit") !=
        std::string::npos);

  auto small = valid();
  small.struct_size = 8;
  CHECK(checkDescriptor(&small, "jira")->find("struct_size (8) is smaller than ABI 1.0's") !=
        std::string::npos);

  auto large = valid();
  large.struct_size = sizeof(conduit_plugin_descriptor) + 8;
  CHECK(checkDescriptor(&large, "jira")->find("is larger than ABI 1.4 defines") !=
        std::string::npos);

  for (const char* function : {"create", "process", "destroy"}) {
    auto missing = valid();
    if (std::string(function) == "create") missing.create = nullptr;
    if (std::string(function) == "process") missing.process = nullptr;
    if (std::string(function) == "destroy") missing.destroy = nullptr;
    CHECK(checkDescriptor(&missing, "jira") ==
          "the required function `" + std::string(function) + "` is missing");
  }

  auto unnamed = valid();
  unnamed.name = nullptr;
  CHECK(checkDescriptor(&unnamed, "jira") == "the descriptor has no name");
  auto other = valid();
  CHECK(checkDescriptor(&other, "gitlab") ==
        "the plugin is named `jira`, not `gitlab` as its file name says");
  auto unversioned = valid();
  unversioned.version = "";
  CHECK(checkDescriptor(&unversioned, "jira") == "the descriptor has no version");
}
