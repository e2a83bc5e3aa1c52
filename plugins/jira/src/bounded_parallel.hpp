#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

namespace conduit::jira {

// Runs task(0) to task(count - 1), at most `concurrency` at a time, and returns once all that
// started have ended: on the calling thread and on up to concurrency - 1 threads started for
// this call and joined before it returns. Tasks start in index order; none starts once `stop`
// is true (a task may set it). `task` must not throw: what it throws ends the process, as from
// any thread. Where a thread cannot be started, the threads that could (at least the caller's)
// run the rest.
//
// Threads of the call, not a pool of the instance: one processor instance serves up to
// worker_concurrency deliveries at once, so a fixed pool would cap the whole worker at its
// size or sit mostly idle. Starting and joining three threads costs well under a millisecond
// (docs/BENCHMARKS.md), against the 100 ms and more of Jira's two calls per issue; an event
// naming one issue starts none.
void runBounded(size_t count, size_t concurrency, const std::function<void(size_t)>& task,
                const std::atomic<bool>& stop);

}  // namespace conduit::jira
