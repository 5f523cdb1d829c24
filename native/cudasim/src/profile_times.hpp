// profile_times.hpp: with CUDASIM_PROFILE=1, the CPU time each kernel (and cuBLAS call) took on
// the simulator, printed at exit: where a simulated run spends its time (never a GPU timing).
#pragma once
#include <cstdint>
#include <string>

namespace cudasim {

bool profiling();
void profile_add(const std::string& name, uint64_t nanos);
uint64_t now_nanos();

}  // namespace cudasim
