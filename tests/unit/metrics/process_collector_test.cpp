#include "metrics/process_collector.hpp"

#include <cmath>
#include <map>
#include <string>

#include <doctest/doctest.h>

using conduit::metrics::ProcessStat;

TEST_CASE("process metrics: /proc/self/stat - fields after the last parenthesis of the name") {
  // A command name with a space and a parenthesis: fields are counted from the last ')'.
  const std::string line =
      "4242 (con duit) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 150 0 0 20 0 3 0 1000 "
      "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  ProcessStat stat;
  REQUIRE(conduit::metrics::parseProcStat(line, 100, 4096, 1700000000, stat));
  CHECK(stat.cpu_seconds == doctest::Approx(4.0));  // (250 + 150) ticks / 100
  CHECK(stat.start_time_seconds == doctest::Approx(1700000010.0));
  CHECK(stat.virtual_memory_bytes == doctest::Approx(104857600.0));
  CHECK(stat.resident_memory_bytes == doctest::Approx(2560.0 * 4096));
  CHECK_FALSE(conduit::metrics::parseProcStat("4242 (short) S 1 2", 100, 4096, 0, stat));
  CHECK_FALSE(conduit::metrics::parseProcStat("", 100, 4096, 0, stat));
}

TEST_CASE("process metrics: boot time and the open files limit") {
  CHECK(conduit::metrics::parseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n") ==
        1700000000.0);
  CHECK(conduit::metrics::parseBootTime("cpu 1\n") == -1);
  const std::string limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max open files            1024                 524288               files     \n";
  CHECK(conduit::metrics::parseMaxOpenFiles(limits) == 1024);
  CHECK(std::isinf(conduit::metrics::parseMaxOpenFiles(
      "Max open files            unlimited            unlimited            files\n")));
  CHECK(conduit::metrics::parseMaxOpenFiles("") == -1);
}

TEST_CASE("process metrics: this process's, read from /proc") {
  const auto families = conduit::metrics::collectProcessMetrics();
  std::map<std::string, double> values;
  for (const auto& family : families)
    values[family.name] = family.samples.at(0).value;
  CHECK(values.count("process_cpu_seconds_total") == 1);
  CHECK(values["process_resident_memory_bytes"] > 0);
  CHECK(values["process_virtual_memory_bytes"] >= values["process_resident_memory_bytes"]);
  CHECK(values["process_open_fds"] >= 3);
  CHECK(values["process_max_fds"] >= values["process_open_fds"]);
  CHECK(values["process_start_time_seconds"] > 1.5e9);
}
