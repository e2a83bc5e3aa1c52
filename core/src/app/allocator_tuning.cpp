#include "app/allocator_tuning.hpp"

#include <malloc.h>

namespace conduit::app {
namespace {

// Free memory an arena keeps at its top rather than return it: a few bodies' worth.
constexpr int kTrimThresholdBytes = 4 << 20;
// Allocations from this size up are mapped on their own (bodies of several MB are rare, and
// best returned at once); below it they come from the arenas.
constexpr int kMmapThresholdBytes = 1 << 20;

}  // namespace

void tuneAllocator() {
  // Either setting also turns off glibc's dynamic thresholds, which would move them again.
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
}

}  // namespace conduit::app
