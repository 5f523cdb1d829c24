// memory.hpp: simulated device memory and pinned host memory. Both are host memory that kernels
// address directly; each allocation has its own mapping with an inaccessible guard page on both
// sides, so a kernel reading or writing past an end faults (SIGSEGV, turned into
// CUDA_ERROR_ILLEGAL_ADDRESS by faults.cpp) instead of corrupting a neighbour. Fresh device memory
// is poisoned (0xFF bytes: float NaN) so that reading what was never written shows. Allocation
// sizes are rounded to 256 bytes (the alignment cuMemAlloc guarantees); an overrun inside that
// rounding is not caught.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace cudasim {

enum class MemKind { Device, PinnedHost };

struct Allocation {
    uintptr_t base = 0;
    size_t size = 0;         // as requested
    MemKind kind = MemKind::Device;
};

// Allocates; returns 0 (and sets *oom) when the profile's memory is exhausted or mmap fails.
uintptr_t mem_alloc(size_t bytes, MemKind kind, bool* oom);
// Frees an allocation by its base address; false if addr is not one.
bool mem_free(uintptr_t addr, MemKind kind);
// The allocation that [addr, addr + bytes) lies in (an empty range may sit at the end), or false.
bool mem_find(uintptr_t addr, size_t bytes, Allocation* out);
// Whether addr lies in a guard page, and the allocation it guards (for fault messages).
bool mem_guard_of(uintptr_t addr, Allocation* out, bool* after_end);
// Device bytes in use (sizes rounded to 512 bytes, the driver's small-allocation granularity).
size_t mem_device_used();
// "device allocation 0x... of N bytes" / "pinned host ..." for messages.
std::string describe(const Allocation& a);

}  // namespace cudasim
