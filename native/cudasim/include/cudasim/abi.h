// abi.h: the C interface between a CPU kernel library (cuda-kernels/*.cu compiled by g++) and the
// simulated driver (libcuda.so.1). Kernel libraries link against libcuda.so.1 and call these while a
// kernel runs; the driver finds their kernels through cudasim_register_kernel, called from static
// constructors when it dlopens them.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct { unsigned int x, y, z; } cudasim_dim3;

// What a running CUDA thread (a fiber) sees of itself; constant for the fiber's whole life.
typedef struct {
    cudasim_dim3 thread_idx, block_idx, block_dim, grid_dim;
    unsigned int lane;            // linear thread index % 32
} cudasim_thread;

// Calls a kernel's function with its cuLaunchKernel parameter array.
typedef void (*cudasim_invoker)(void* kernel, void** params);

// Warp collective kinds of cudasim_warp_op.
enum { CUDASIM_WARP_SYNC = 0, CUDASIM_WARP_SHFL = 1, CUDASIM_WARP_BALLOT = 2 };

// The calling fiber's indices. Constant per fiber, so the compiler may keep it in a register.
const cudasim_thread* cudasim_self(void) __attribute__((const));
// The block's dynamic shared memory (extern __shared__), sized by the launch.
void* cudasim_dynamic_shared(void);
// __syncthreads(): blocks the fiber until every thread of the block reached the same call site.
void cudasim_syncthreads(const char* site);
// Warp collectives: the fiber waits until every lane named in mask reached the same site; SHFL
// returns the value of lane src_lane, BALLOT the mask of lanes whose value was non-zero.
uint64_t cudasim_warp_op(int kind, unsigned int mask, uint64_t value, int src_lane, const char* site);

void cudasim_register_kernel(const char* name, cudasim_invoker invoke, void* kernel, int n_params,
                             const uint32_t* param_sizes, const uint8_t* param_is_pointer);

#ifdef __cplusplus
}
#endif
