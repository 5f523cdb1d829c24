// packed_decode.cu: dequantize packed (not entropy-coded) .entro tensors into GPU memory: the baseline
// the Huffman kernels are compared with, through the same dequantization as every other path.
//
// Thread mapping: one thread per output weight, 1-D grid of 256-thread blocks; thread i reads its
// symbol (byte i, or nibble i of byte i/2, low nibble first), its group's scale (and zero) at
// i / group_size, and writes weight i: consecutive threads read consecutive bytes and write
// consecutive outputs (coalesced). No shared memory.
#include "entro_format.cuh"

namespace {

template <typename Out>
__device__ void unpack(const entro::UnpackParams p, Out* out) {
    const uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= p.n_symbols) return;
    const uint32_t q = p.bits <= 4 ? (p.packed[i >> 1] >> ((i & 1) * 4)) & 0x0F : p.packed[i];
    const uint64_t g = i / p.group_size;
    const float zero = p.scheme == entro::SCHEME_ASYM ? p.zeros[g] : 0.0f;
    out[i] = entro::from_float<Out>(entro::dequantize(p.scheme, p.bits, q, p.scales[g], zero, p.sign));
}

}  // namespace

extern "C" __global__ void entro_unpack_dequant_f32(const entro::UnpackParams p, float* out) { unpack<float>(p, out); }

extern "C" __global__ void entro_unpack_dequant_f16(const entro::UnpackParams p, __half* out) { unpack<__half>(p, out); }

#if ENTRO_HAVE_BF16
extern "C" __global__ void entro_unpack_dequant_bf16(const entro::UnpackParams p, __nv_bfloat16* out) { unpack<__nv_bfloat16>(p, out); }
#endif
