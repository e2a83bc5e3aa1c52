#include "store/hook.hpp"

#include <doctest/doctest.h>

using namespace conduit::store;

TEST_CASE("repo ids: [A-Za-z0-9._-]{1 100}") {
  CHECK(isValidRepoId("webhook-test-repo"));
  CHECK(isValidRepoId("A.b_c-9"));
  CHECK(isValidRepoId(std::string(100, 'x')));
  CHECK_FALSE(isValidRepoId(std::string(101, 'x')));
  CHECK_FALSE(isValidRepoId(""));
  CHECK_FALSE(isValidRepoId("org/repo"));
  CHECK_FALSE(isValidRepoId("a b"));
  CHECK_FALSE(isValidRepoId("a::b"));
}

TEST_CASE("registry keys are the original service's") {
  CHECK(providerSetKey("github") == "providers::github");
  CHECK(hookKey("github", "repo") == "secrets::github::repo");
}
