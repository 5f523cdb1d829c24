// entro_format.cuh: the .entro bitstream and quantization conventions on the device side.
// Mirrors docs/FORMAT.md and io.entrollm.container.EntroLayout / io.entrollm.quant.Quantizer:
//   - bitstream: u32 words (little-endian in memory), bits MSB-first within a word, one zero pad word;
//   - decode table: 2^table_bits u16 entries, entry = (symbol << 8) | code_length, 0 = invalid code;
//   - dequantization in float32 with separately rounded multiply and add (no FMA contraction).
// C++14 only (builds with CUDA 10.2 for Jetson Nano sm_53); bf16 output needs cuda_bf16.h (CUDA 11+),
// guarded below, so older toolkits build everything but the bf16 kernel. The CUDA simulator
// (native/cudasim, ENTRO_CUDASIM) compiles with g++ against CUDA 13's headers, which have bf16.
#pragma once
#include <stdint.h>
#include <cuda_fp16.h>
#if (defined(__CUDACC_VER_MAJOR__) && __CUDACC_VER_MAJOR__ >= 11) || defined(ENTRO_CUDASIM)
#include <cuda_bf16.h>
#define ENTRO_HAVE_BF16 1
#else
#define ENTRO_HAVE_BF16 0
#endif

namespace entro {

// Scheme ids as stored in the directory (io.entrollm.quant.AppliedScheme).
enum Scheme : int32_t { SCHEME_ASYM = 1, SCHEME_SYM = 2, SCHEME_UNSIGNED = 3 };

// How a weight tensor lies in GPU memory for the kernels that compute from it (gemv.cu): see WeightParams.
enum WeightForm : int32_t { FORM_U8 = 1, FORM_U4 = 2, FORM_F16 = 3, FORM_BF16 = 4 };

// Largest code length the container allows (HuffmanCodebook.MAX_SUPPORTED_LENGTH).
constexpr int kMaxCodeLength = 16;

// Per-tensor decode parameters, passed by value to the kernels. All pointers are device memory.
struct DecodeParams {
    const uint32_t* words;        // bitstream, ceil(total_bits / 32) + 1 words
    const uint64_t* chunk_bits;   // starting bit of each chunk, n_chunks entries
    const uint16_t* table;        // 2^table_bits decode entries
    const float*    scales;       // one per group
    const float*    zeros;        // one per group (ASYM only, else unused)
    uint64_t total_bits;          // end of the bitstream
    uint64_t n_symbols;           // symbols of the tensor
    uint64_t group_size;          // symbols per scale
    int32_t  chunk_symbols;       // symbols per chunk (last chunk may be shorter)
    int32_t  n_chunks;
    int32_t  table_bits;          // longest code length, 1..16
    int32_t  bits;                // quantization bits, 2..8
    int32_t  scheme;              // Scheme
    int32_t  sign;                // +1 / -1 for SCHEME_UNSIGNED
    int32_t* error;               // set to 1 + chunk index on the first corrupt chunk, else left 0
};
static_assert(sizeof(DecodeParams) == 96, "DecodeParams layout is mirrored by the Java launcher");

// One tensor of a batched decode (entro_decode_batch_symbols): its parameters, where its symbols go
// and in which form, and the first block of the batch grid that belongs to it (blocks [first_block, next entry's
// first_block) decode its chunks, blockDim.x chunks per block).
struct BatchEntry {
    DecodeParams p;
    uint8_t* out;                 // the symbols, in out_form
    uint32_t first_block;
    int32_t  out_form;            // FORM_U8 or FORM_U4
};
static_assert(sizeof(BatchEntry) == 112, "BatchEntry layout is mirrored by the Java launcher");

// Parameters of the packed-symbol kernels (encoding "packed": 1 symbol per byte for 5..8 bits, 2 per
// byte, low nibble first, for 2..4 bits). All pointers are device memory.
struct UnpackParams {
    const uint8_t* packed;        // ceil(n/2) or n bytes
    const float*   scales;        // one per group
    const float*   zeros;         // one per group (ASYM only)
    uint64_t n_symbols;
    uint64_t group_size;
    int32_t  bits;
    int32_t  scheme;
    int32_t  sign;
    int32_t  reserved;            // zero; keeps the size a multiple of 8
};
static_assert(sizeof(UnpackParams) == 56, "UnpackParams layout is mirrored by the Java launcher");

// The forms (WeightForm): packed
// symbols as the container stores them (u8: one a byte; u4: two a byte, low nibble first) with their
// float32 scales (+ zeros), or unquantized halves. float32 weights go to cuBLAS and have no form here.

// A row range of a weight matrix W[rows][cols] (row-major, PyTorch layout) in one of those forms,
// passed by value. Element (r, c) of the view is element first + r * cols + c of the tensor, so a
// view of a fused tensor's rows keeps the tensor's group numbering. All pointers are device memory.
struct WeightParams {
    const void*  data;            // the whole tensor's symbols or halves
    const float* scales;          // packed forms: one per group of group_size consecutive elements
    const float* zeros;           // packed ASYM: one per group; else unused
    uint64_t first;               // element index of the view's first element
    uint64_t group_size;          // packed forms: elements per scale; else unused
    int32_t  rows;                // rows of the view (outputs of a matmul)
    int32_t  cols;                // elements per row (inputs of a matmul)
    int32_t  form;                // WeightForm
    int32_t  bits;                // packed forms: quantization bits, 2..8
    int32_t  scheme;              // packed forms: Scheme
    int32_t  sign;                // packed SCHEME_UNSIGNED: +1 / -1
};
static_assert(sizeof(WeightParams) == 64, "WeightParams layout is mirrored by the Java launcher");

// n (1..16) bits at bit position pos. Needs words[pos/32 + 1] readable (the pad word guarantees it).
__device__ __forceinline__ uint32_t peek_bits(const uint32_t* words, uint64_t pos, int n) {
    uint64_t w = pos >> 5;
    uint64_t window = (static_cast<uint64_t>(words[w]) << 32) | words[w + 1];
    return static_cast<uint32_t>((window << (pos & 31)) >> (64 - n));
}

// The reference dequantization (io.entrollm.quant.Quantizer.dequantize), rounding as float32 each step.
__device__ __forceinline__ float dequantize(int scheme, int bits, uint32_t q, float scale, float zero, int sign) {
    if (scheme == SCHEME_ASYM) return __fadd_rn(__fmul_rn(static_cast<float>(q), scale), zero);
    if (scheme == SCHEME_SYM) return __fmul_rn(static_cast<float>(static_cast<int>(q) - ((1 << (bits - 1)) - 1)), scale);
    float v = __fmul_rn(static_cast<float>(q), scale);
    return sign < 0 ? -v : v;
}

// Element i of a tensor in form p.form, as float32: packed symbols through the reference
// dequantization above (so a gathered row equals the CPU's dequantized weights bit for bit).
__device__ __forceinline__ float weight_at(const WeightParams& p, uint64_t i) {
    if (p.form == FORM_F16) return __half2float(static_cast<const __half*>(p.data)[i]);
    if (p.form == FORM_BF16) return __uint_as_float(static_cast<uint32_t>(static_cast<const uint16_t*>(p.data)[i]) << 16);
    const uint8_t* b = static_cast<const uint8_t*>(p.data);
    const uint32_t q = p.form == FORM_U4 ? (b[i >> 1] >> ((i & 1) * 4)) & 0x0F : b[i];
    const uint64_t g = i / p.group_size;
    const float zero = p.scheme == SCHEME_ASYM ? p.zeros[g] : 0.0f;
    return dequantize(p.scheme, p.bits, q, p.scales[g], zero, p.sign);
}

template <typename T> __device__ __forceinline__ T from_float(float v);
template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
// Only instantiated by the symbols-only kernel's untaken branch (C++14 has no if constexpr).
template <> __device__ __forceinline__ uint8_t from_float<uint8_t>(float v) { return static_cast<uint8_t>(v); }
template <> __device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }
#if ENTRO_HAVE_BF16
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
#endif

}  // namespace entro
