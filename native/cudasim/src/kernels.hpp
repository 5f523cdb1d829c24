// kernels.hpp: the CPU kernel libraries (cuda-kernels/*.cu built by g++, see kernel-tu.sh) and the
// kernels they register by name. cuModuleGetFunction resolves names here.
#pragma once
#include <string>
#include <vector>

#include "cudasim/abi.h"

namespace cudasim {

struct KernelInfo {
    std::string name;
    cudasim_invoker invoke;
    void* fn;
    std::vector<uint32_t> param_sizes;
    std::vector<uint8_t> param_is_pointer;
};

// dlopens CUDASIM_KERNELS (':'-separated paths), default libcudasim-kernels.so beside libcuda.so.1.
// Returns false (and logs why) when one cannot be loaded.
bool load_kernel_libraries();
const KernelInfo* find_kernel(const std::string& name);

}  // namespace cudasim
