// block_runner.hpp: executes one kernel launch on the CPU. Blocks are spread over the pool's
// threads; inside a block every CUDA thread is a fiber (fiber_switch.S), run in thread order until
// it exits or reaches __syncthreads or a warp collective, which release only when every thread (or
// every lane of the mask) has reached the same call site. What cannot complete is a fault, reported
// like a GPU's: a divergent or mismatched barrier, a warp collective whose mask names lanes that
// have exited, a deadlock; a memory fault (guard page, wild pointer) is CUDA_ERROR_ILLEGAL_ADDRESS.
#pragma once
#include <string>
#include <vector>

#include "common.hpp"
#include "kernels.hpp"

namespace cudasim {

struct LaunchSpec {
    const KernelInfo* kernel = nullptr;
    cudasim_dim3 grid{1, 1, 1}, block{1, 1, 1};
    size_t dynamic_shared = 0;
    std::vector<unsigned char> arg_storage;  // copies of the parameter values, taken at launch
    std::vector<void*> args;                 // pointers into arg_storage, one per parameter
};

// Runs every block. Returns OK, or the fault's code with *message saying what and where.
Result run_launch(const LaunchSpec& launch, std::string* message);

// Installs the SIGSEGV/SIGBUS/SIGFPE handler that turns faults inside kernels into launch errors
// and passes every other signal on to the handler installed before (the JVM's).
void install_fault_handler();

}  // namespace cudasim
