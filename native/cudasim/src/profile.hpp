// profile.hpp: the simulated device, chosen by CUDASIM_DEVICE (default h100): what cuDeviceGet*
// report and the limits cuLaunchKernel and cuModuleLoadData enforce.
#pragma once
#include <cstddef>

namespace cudasim {

struct DeviceProfile {
    const char* key;            // CUDASIM_DEVICE value
    const char* name;           // cuDeviceGetName
    int cc_major, cc_minor;
    int sm_count;
    size_t memory_bytes;
    int shared_per_block;       // without opt-in (48 KiB everywhere)
    int shared_per_block_optin; // cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES) limit
    int shared_per_sm;
    int max_threads_per_sm;
    int integrated;             // 1: shares memory with the CPU (Jetson)
    int l2_bytes;
    int memory_bus_bits;
    int memory_clock_khz;
    int clock_khz;
};

// The active profile (read once from CUDASIM_DEVICE); exits with a message for an unknown name.
const DeviceProfile& device_profile();
// Value of a CUdevice_attribute, or false when the simulator does not model it.
bool device_attribute(int attribute, int* value);

}  // namespace cudasim
