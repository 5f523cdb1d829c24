// fault_kernels.cu: kernels for the simulator's own tests (sim_test.cpp), each correct or wrong in
// one known way. Built by nvcc into a fatbin (what cuModuleLoadData gets) and by g++ into a CPU
// kernel library, like cuda-kernels/. C++14.
//
// Thread mapping: 1-D blocks; thread i of the grid handles element i unless said otherwise.
#include <stdint.h>

// p[i] = v for i < n: n may exceed the allocation (the out-of-bounds test).
extern "C" __global__ void sim_fill(float* p, int n, float v) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = v;
}

// Like sim_fill, slowly: each thread spins first, so another stream can overtake it.
extern "C" __global__ void sim_slow_fill(float* p, int n, float v, int spin) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    volatile int sink = 0;
    for (int s = 0; s < spin; ++s) sink = sink + s;
    if (i < n) p[i] = v;
}

extern "C" __global__ void sim_copy(const float* src, float* dst, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = src[i];
}

// One block: out[0] = sum of in[0..blockDim) through warp shuffles and a shared-memory step;
// out[1] = number of lanes of warp 0 with odd input (ballot).
extern "C" __global__ void sim_block_sum(const float* in, float* out) {
    __shared__ float partial[32];
    float v = in[threadIdx.x];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xFFFFFFFFu, v, o);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        float w = threadIdx.x < (blockDim.x >> 5) ? partial[threadIdx.x] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) w += __shfl_xor_sync(0xFFFFFFFFu, w, o);
        const unsigned odd = __ballot_sync(0xFFFFFFFFu, ((int)in[threadIdx.x]) & 1);
        if (threadIdx.x == 0) {
            out[0] = w;
            out[1] = (float)__popc(odd);
        }
    }
}

// Barriers at two different call sites: threads below 16 take one, the others the other.
extern "C" __global__ void sim_divergent_barrier(int* out) {
    if (threadIdx.x < 16) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 1;
}

// Threads 32.. exit before the barrier the others wait at.
extern "C" __global__ void sim_barrier_after_exit(int* out) {
    if (threadIdx.x >= 32) return;
    __syncthreads();
    out[threadIdx.x] = 1;
}

// Lanes 16..31 exit; the others shuffle with a full mask.
extern "C" __global__ void sim_shuffle_exited_lanes(float* out) {
    if (threadIdx.x >= 16) return;
    out[threadIdx.x] = __shfl_xor_sync(0xFFFFFFFFu, 1.0f, 1);
}

// Uses `shared` bytes of dynamic shared memory (the launch-limit tests).
extern "C" __global__ void sim_use_shared(float* out) {
    extern __shared__ float buffer[];
    buffer[threadIdx.x] = (float)threadIdx.x;
    __syncthreads();
    out[threadIdx.x] = buffer[blockDim.x - 1 - threadIdx.x];
}
