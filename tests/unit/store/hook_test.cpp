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

TEST_CASE("imported secrets: 1 to 1024 bytes - no control characters - no space at either end") {
  CHECK(importedSecretProblem("from-elsewhere").empty());
  CHECK(importedSecretProblem("inner spaces are fine").empty());
  CHECK(importedSecretProblem(std::string(1024, 'x')).empty());
  CHECK(importedSecretProblem("") == "is empty");
  CHECK(importedSecretProblem(std::string(1025, 'x')).find("1024") != std::string::npos);
  for (const char* bad : {"tab\there", "line\nbreak", "cr\r", "del\x7f"}) {
    CHECK_MESSAGE(importedSecretProblem(bad).find("control") != std::string::npos, bad);
  }
  CHECK(importedSecretProblem(" lead").find("space") != std::string::npos);
  CHECK(importedSecretProblem("trail ").find("space") != std::string::npos);
}
