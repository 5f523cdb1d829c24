#include "profile.hpp"

#include "common.hpp"

#include <cstdlib>
#include <cstring>

namespace cudasim {

namespace {
// Published figures of the real parts (the simulator's speed has nothing to do with them).
const DeviceProfile kProfiles[] = {
    {"h100", "cudasim H100 80GB HBM3 (sm_90, simulated)", 9, 0, 132, 80ull << 30, 48 << 10, 227 << 10, 228 << 10, 2048, 0,
     50 << 20, 5120, 2619000, 1980000},
    {"jetson-nano", "cudasim Jetson Nano (sm_53, simulated)", 5, 3, 1, 4ull << 30, 48 << 10, 48 << 10, 64 << 10, 2048, 1,
     256 << 10, 64, 1600000, 921600},
    {"t4", "cudasim Tesla T4 (sm_75, simulated)", 7, 5, 40, 16ull << 30, 48 << 10, 64 << 10, 64 << 10, 1024, 0, 4 << 20, 256,
     5001000, 1590000},
};
}  // namespace

const DeviceProfile& device_profile() {
    static const DeviceProfile* chosen = [] {
        const char* key = getenv("CUDASIM_DEVICE");
        if (key == nullptr || *key == 0) key = "h100";
        for (const DeviceProfile& p : kProfiles) {
            if (strcmp(p.key, key) == 0) return &p;
        }
        log("CUDASIM_DEVICE=%s is not a profile (h100, jetson-nano, t4)", key);
        exit(2);
    }();
    return *chosen;
}

bool device_attribute(int attribute, int* value) {
    const DeviceProfile& p = device_profile();
    switch (attribute) {
        case 1: *value = 1024; return true;                     // MAX_THREADS_PER_BLOCK
        case 2: case 3: *value = 1024; return true;             // MAX_BLOCK_DIM_X/Y
        case 4: *value = 64; return true;                       // MAX_BLOCK_DIM_Z
        case 5: *value = 2147483647; return true;               // MAX_GRID_DIM_X
        case 6: case 7: *value = 65535; return true;            // MAX_GRID_DIM_Y/Z
        case 8: *value = p.shared_per_block; return true;       // MAX_SHARED_MEMORY_PER_BLOCK
        case 9: *value = 65536; return true;                    // TOTAL_CONSTANT_MEMORY
        case 10: *value = 32; return true;                      // WARP_SIZE
        case 12: *value = 65536; return true;                   // MAX_REGISTERS_PER_BLOCK
        case 13: *value = p.clock_khz; return true;             // CLOCK_RATE
        case 16: *value = p.sm_count; return true;              // MULTIPROCESSOR_COUNT
        case 18: *value = p.integrated; return true;            // INTEGRATED
        case 19: *value = 1; return true;                       // CAN_MAP_HOST_MEMORY
        case 31: *value = 1; return true;                       // CONCURRENT_KERNELS
        case 36: *value = p.memory_clock_khz; return true;      // MEMORY_CLOCK_RATE
        case 37: *value = p.memory_bus_bits; return true;       // GLOBAL_MEMORY_BUS_WIDTH
        case 38: *value = p.l2_bytes; return true;              // L2_CACHE_SIZE
        case 39: *value = p.max_threads_per_sm; return true;    // MAX_THREADS_PER_MULTIPROCESSOR
        case 40: *value = 2; return true;                       // ASYNC_ENGINE_COUNT
        case 41: *value = 1; return true;                       // UNIFIED_ADDRESSING
        case 75: *value = p.cc_major; return true;              // COMPUTE_CAPABILITY_MAJOR
        case 76: *value = p.cc_minor; return true;              // COMPUTE_CAPABILITY_MINOR
        case 81: *value = p.shared_per_sm; return true;         // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
        case 97: *value = p.shared_per_block_optin; return true;// MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        default: return false;
    }
}

}  // namespace cudasim
