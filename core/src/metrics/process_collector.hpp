#pragma once

#include <string>
#include <vector>

#include "metrics/registry.hpp"

namespace conduit::metrics {

// The standard process metrics, as the official Prometheus clients name them, read from
// /proc/self at each scrape: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds. A file it cannot read leaves its metrics out (a system without
// /proc), never failing the scrape.
std::vector<FamilySnapshot> collectProcessMetrics();

// What collectProcessMetrics() reads, split out so that tests can feed it text.
struct ProcessStat {
  double cpu_seconds = 0;         // user and system time
  double start_time_seconds = 0;  // Unix time
  double virtual_memory_bytes = 0;
  double resident_memory_bytes = 0;
};

// Parses /proc/self/stat's text, given the clock ticks per second, the page size and the boot
// time (Unix seconds, from /proc/stat's `btime`). False when the text is not such a line.
bool parseProcStat(const std::string& text, long ticks_per_second, long page_size,
                   double boot_time_seconds, ProcessStat& stat);

// /proc/stat's `btime` line (the boot time, Unix seconds), or -1 when missing.
double parseBootTime(const std::string& proc_stat);

// The soft limit from /proc/self/limits' "Max open files" line, or -1 when missing; `unlimited`
// is +Inf.
double parseMaxOpenFiles(const std::string& limits);

}  // namespace conduit::metrics
