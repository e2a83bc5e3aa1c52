#pragma once

namespace conduit::app {

// Keeps glibc's allocator from handing memory back to the kernel after every request.
//
// Each delivery's body (32 KB for a typical pull request) and each Redis command built for it
// are allocated and freed once per request, on the HTTP threads, each with its own malloc arena.
// With glibc's defaults, freeing the body at the top of a thread's arena gives the pages back
// (madvise), and the next request takes them again (page faults): in the ingress benchmark that
// churn, with the TLB flushes it triggers on every core, was a third of the server's CPU per
// delivery (docs/BENCHMARKS.md). A fixed trim threshold keeps up to that much free memory in
// each arena for the next request; a fixed mmap threshold keeps bodies under it out of mmap.
// Memory once used is kept, up to the threshold per arena: peak RSS is unchanged.
void tuneAllocator();

}  // namespace conduit::app
