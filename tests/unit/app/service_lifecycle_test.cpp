#include "app/service_lifecycle.hpp"

#include <doctest/doctest.h>

using conduit::app::coreKeys;
using conduit::app::nearMisses;
using Misses = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("nearMisses: a likely typo of a core key - the closest one - never a plugin's key") {
  const auto known = coreKeys();
  CHECK(nearMisses({"redis_timout_ms"}, known) == Misses{{"redis_timout_ms", "redis_timeout_ms"}});
  CHECK(nearMisses({"redis_ur", "prot"}, known) == Misses{{"redis_ur", "redis_url"}});
  CHECK(nearMisses({"bnd"}, known) == Misses{{"bnd", "bind"}});
  // Keys that only plugins read are nobody's typo.
  CHECK(nearMisses({"atlassian_email", "atlassian_api_key", "scripted_log", "database_url"}, known)
            .empty());
  CHECK(nearMisses({"worker_prt"}, known) == Misses{{"worker_prt", "worker_port"}});
}
