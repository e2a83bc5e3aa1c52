#include "bounded_parallel.hpp"

#include <algorithm>
#include <system_error>
#include <thread>
#include <vector>

namespace conduit::jira {

void runBounded(size_t count, size_t concurrency, const std::function<void(size_t)>& task,
                const std::atomic<bool>& stop) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    while (!stop.load()) {
      const size_t index = next.fetch_add(1);
      if (index >= count) return;
      task(index);
    }
  };
  const size_t threads = std::min(count, std::max<size_t>(concurrency, 1));
  std::vector<std::thread> helpers;
  helpers.reserve(threads > 0 ? threads - 1 : 0);
  for (size_t i = 1; i < threads; ++i) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no more threads now: those running take the rest
    }
  }
  work();
  for (auto& helper : helpers)
    helper.join();
}

}  // namespace conduit::jira
