#include "metrics/process_collector.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace conduit::metrics {
namespace {

std::string readWhole(const char* path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Entries of /proc/self/fd, less the directory stream's own descriptor.
double openFileDescriptors() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;
}

FamilySnapshot gauge(std::string name, std::string help, double value,
                     MetricType type = MetricType::kGauge) {
  return FamilySnapshot{std::move(name), std::move(help), type, {Sample{"", {}, value}}};
}

}  // namespace

bool parseProcStat(const std::string& text, long ticks_per_second, long page_size,
                   double boot_time_seconds, ProcessStat& stat) {
  // The command name is in parentheses and may hold spaces and parentheses: the fields that
  // follow start after the last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos || ticks_per_second <= 0) return false;
  std::istringstream fields(text.substr(close + 1));
  std::vector<std::string> values;
  for (std::string value; fields >> value;)
    values.push_back(value);
  // After the name: state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
  constexpr size_t kFirst = 3;
  auto field = [&](size_t number) { return std::strtod(values[number - kFirst].c_str(), nullptr); };
  if (values.size() < 24 - kFirst + 1) return false;
  stat.cpu_seconds = (field(14) + field(15)) / static_cast<double>(ticks_per_second);
  stat.start_time_seconds = boot_time_seconds + field(22) / static_cast<double>(ticks_per_second);
  stat.virtual_memory_bytes = field(23);
  stat.resident_memory_bytes = field(24) * static_cast<double>(page_size);
  return true;
}

double parseBootTime(const std::string& proc_stat) {
  std::istringstream lines(proc_stat);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("btime ", 0) == 0) return std::strtod(line.c_str() + 6, nullptr);
  }
  return -1;
}

double parseMaxOpenFiles(const std::string& limits) {
  std::istringstream lines(limits);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(std::string_view("Max open files").size()));
    std::string soft;
    fields >> soft;
    if (soft == "unlimited") return std::numeric_limits<double>::infinity();
    return std::strtod(soft.c_str(), nullptr);
  }
  return -1;
}

std::vector<FamilySnapshot> collectProcessMetrics() {
  std::vector<FamilySnapshot> families;
  ProcessStat stat;
  const double boot_time = parseBootTime(readWhole("/proc/stat"));
  if (boot_time >= 0 && parseProcStat(readWhole("/proc/self/stat"), ::sysconf(_SC_CLK_TCK),
                                      ::sysconf(_SC_PAGESIZE), boot_time, stat)) {
    families.push_back(gauge("process_cpu_seconds_total",
                             "Total user and system CPU time spent in seconds.", stat.cpu_seconds,
                             MetricType::kCounter));
    families.push_back(gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                             stat.resident_memory_bytes));
    families.push_back(gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                             stat.virtual_memory_bytes));
    families.push_back(gauge("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.",
                             stat.start_time_seconds));
  }
  if (const double open = openFileDescriptors(); open >= 0) {
    families.push_back(gauge("process_open_fds", "Number of open file descriptors.", open));
  }
  if (const double max = parseMaxOpenFiles(readWhole("/proc/self/limits")); max >= 0) {
    families.push_back(gauge("process_max_fds", "Maximum number of open file descriptors.", max));
  }
  return families;
}

}  // namespace conduit::metrics
