// widen.cu: unquantized weights (f16 or bf16, as stored in the source file) to float32 in GPU memory:
// the "decode" of the bf16/f16 baseline and of a .entro file's raw tensors (norms, biases) in the
// compressed and streamed residency modes, where weights stay in their stored form until a layer runs.
//
// Thread mapping: one thread per element, 1-D grid of 256-thread blocks (grid-stride loop, so any n
// fits a grid); thread i reads 2 bytes at i and writes 4 bytes at i: coalesced both ways.
// bf16 -> f32 is exact (the bf16 bits are the high half of the f32); f16 -> f32 is exact (__half2float).
// Needs no cuda_bf16.h, so it builds for sm_53 with CUDA 10.2.
#include <stdint.h>
#include <cuda_fp16.h>

extern "C" __global__ void entro_widen_bf16_f32(const uint16_t* in, float* out, uint64_t n) {
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (uint64_t)gridDim.x * blockDim.x) {
        out[i] = __uint_as_float(static_cast<uint32_t>(in[i]) << 16);
    }
}

extern "C" __global__ void entro_widen_f16_f32(const __half* in, float* out, uint64_t n) {
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (uint64_t)gridDim.x * blockDim.x) {
        out[i] = __half2float(in[i]);
    }
}
