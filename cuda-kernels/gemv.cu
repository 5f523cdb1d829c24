// gemv.cu: matmuls that read weights in the form they lie in GPU memory (entro::WeightParams: packed
// uint8 / uint4 symbols with their scales, f16, bf16), so generation reads 1, 0.5 or 2 bytes a weight
// instead of 4; and the helpers of the prompt path, which runs cuBLAS GemmEx on f16 copies of one
// matrix at a time.
//
// entro_gemv_{u8,u4,f16,bf16}: y[t][r] = sum_c W[r][c] * x[t][c] for t < tokens, f32 accumulation.
// Thread mapping: one warp per output row, kWarps warps (256 threads) per block, grid = ceil(rows /
// kWarps). Fast path (cols, first and the group size multiples of 8, x and the data 16-byte aligned):
// lane l takes units of 8 consecutive weights u = l, l + 32, ..., one 4-byte (u4), 8-byte (u8) or
// 16-byte (f16/bf16) load each, so a warp reads 128-512 contiguous bytes per step; one group's scale
// (and zero) serves the unit, and packed products are factorised per unit:
// sum_j (a q_j + b) x_j = a * sum_j q_j x_j + b * sum_j x_j. Otherwise lane l takes single weights
// l, l + 32, ... through entro::weight_at. Tokens go kTokens at a time, one register accumulator each,
// so a unit is loaded once per kTokens tokens. Reduction: each lane writes its kTokens partial sums to
// shared memory (kWarps x kTokens x 32 floats, 8 KiB static), one __syncwarp, then lane t adds the 32
// partials of token t and writes y[t][row]. A shuffle tree would cost 5 x kTokens warp collectives.
// sm_53: float arithmetic only (no dp4a, no bf16 instructions: bf16 is widened with a shift).
//
// entro_embed_rows: out[t][i] = W[tokens[t]][i]; one block per token, threads over the row.
// entro_weights_to_f16: W[r][c] as f16 for r < rows; one thread per element, grid-stride.
// entro_split_f16: x = hi + lo with hi = f16(x), lo = f16(x - hi): two f16 GEMMs (hi, then lo added)
// keep about 22 bits of each activation; one thread per element, grid-stride.
#include "entro_format.cuh"

namespace {

constexpr int kWarps = 8;
constexpr int kTokens = 8;

__device__ __forceinline__ float half_bits(uint32_t bits16) {
    __half_raw r;
    r.x = static_cast<unsigned short>(bits16);
    return __half2float(__half(r));
}

// The 8 values of the unit starting at element e (a multiple of 8): symbols for the packed forms,
// weights for the half forms.
template <int kForm> __device__ __forceinline__ void unit_values(const entro::WeightParams& p, uint64_t e, float v[8]);

template <> __device__ __forceinline__ void unit_values<entro::FORM_U8>(const entro::WeightParams& p, uint64_t e, float v[8]) {
    const uint2 d = *reinterpret_cast<const uint2*>(static_cast<const uint8_t*>(p.data) + e);
    for (int j = 0; j < 4; ++j) {
        v[j] = static_cast<float>((d.x >> (8 * j)) & 0xFF);
        v[4 + j] = static_cast<float>((d.y >> (8 * j)) & 0xFF);
    }
}

template <> __device__ __forceinline__ void unit_values<entro::FORM_U4>(const entro::WeightParams& p, uint64_t e, float v[8]) {
    const uint32_t d = *reinterpret_cast<const uint32_t*>(static_cast<const uint8_t*>(p.data) + e / 2);
    for (int j = 0; j < 8; ++j) v[j] = static_cast<float>((d >> (4 * j)) & 0x0F);
}

template <> __device__ __forceinline__ void unit_values<entro::FORM_F16>(const entro::WeightParams& p, uint64_t e, float v[8]) {
    const uint4 d = *reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(p.data) + e);
    const uint32_t w[4] = {d.x, d.y, d.z, d.w};
    for (int j = 0; j < 4; ++j) {
        v[2 * j] = half_bits(w[j] & 0xFFFF);
        v[2 * j + 1] = half_bits(w[j] >> 16);
    }
}

template <> __device__ __forceinline__ void unit_values<entro::FORM_BF16>(const entro::WeightParams& p, uint64_t e, float v[8]) {
    const uint4 d = *reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(p.data) + e);
    const uint32_t w[4] = {d.x, d.y, d.z, d.w};
    for (int j = 0; j < 4; ++j) {
        v[2 * j] = __uint_as_float(w[j] << 16);
        v[2 * j + 1] = __uint_as_float(w[j] & 0xFFFF0000u);
    }
}

// w = a * q + b for the symbols of group g (the reference dequantization, factorised).
__device__ __forceinline__ void group_affine(const entro::WeightParams& p, uint64_t g, float& a, float& b) {
    const float s = p.scales[g];
    if (p.scheme == entro::SCHEME_ASYM) {
        a = s;
        b = p.zeros[g];
    } else if (p.scheme == entro::SCHEME_SYM) {
        a = s;
        b = -static_cast<float>((1 << (p.bits - 1)) - 1) * s;
    } else {
        a = p.sign < 0 ? -s : s;
        b = 0.0f;
    }
}

template <int kForm>
__device__ void gemv(const entro::WeightParams p, const float* x, float* y, int tokens) {
    __shared__ float partial[kWarps][kTokens][32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int row = blockIdx.x * kWarps + warp;
    if (row >= p.rows) return;  // the whole warp leaves together
    constexpr bool kPacked = kForm == entro::FORM_U8 || kForm == entro::FORM_U4;
    const uint64_t row_first = p.first + static_cast<uint64_t>(row) * p.cols;
    const bool fast = ((p.cols | p.first) & 7) == 0 && (!kPacked || (p.group_size & 7) == 0)
                      && (reinterpret_cast<uintptr_t>(x) & 15) == 0 && (reinterpret_cast<uintptr_t>(p.data) & 15) == 0;
    const int units = p.cols / 8;
    for (int t0 = 0; t0 < tokens; t0 += kTokens) {
        const int nt = min(kTokens, tokens - t0);
        float acc[kTokens];
        for (int t = 0; t < kTokens; ++t) acc[t] = 0.0f;
        if (fast) {
            for (int u = lane; u < units; u += 32) {
                const uint64_t e = row_first + 8 * static_cast<uint64_t>(u);
                float v[8];
                unit_values<kForm>(p, e, v);
                float a = 1.0f, b = 0.0f;
                if (kPacked) group_affine(p, e / p.group_size, a, b);
                for (int t = 0; t < kTokens; ++t) {
                    if (t >= nt) break;
                    const float4* xv = reinterpret_cast<const float4*>(x + static_cast<size_t>(t0 + t) * p.cols + 8 * u);
                    const float4 x0 = xv[0], x1 = xv[1];
                    const float d = v[0] * x0.x + v[1] * x0.y + v[2] * x0.z + v[3] * x0.w + v[4] * x1.x + v[5] * x1.y + v[6] * x1.z + v[7] * x1.w;
                    if (kPacked) {
                        const float sx = x0.x + x0.y + x0.z + x0.w + x1.x + x1.y + x1.z + x1.w;
                        acc[t] += a * d + b * sx;
                    } else {
                        acc[t] += d;
                    }
                }
            }
        } else {
            for (int c = lane; c < p.cols; c += 32) {
                const float w = entro::weight_at(p, row_first + c);
                for (int t = 0; t < nt; ++t) acc[t] += w * x[static_cast<size_t>(t0 + t) * p.cols + c];
            }
        }
        for (int t = 0; t < kTokens; ++t) partial[warp][t][lane] = acc[t];
        __syncwarp();
        if (lane < nt) {
            float s = 0.0f;
            for (int k = 0; k < 32; ++k) s += partial[warp][lane][k];
            y[static_cast<size_t>(t0 + lane) * p.rows + row] = s;
        }
        if (t0 + kTokens < tokens) __syncwarp();  // the next round overwrites the partials
    }
}

}  // namespace

extern "C" __global__ void entro_gemv_u8(const entro::WeightParams p, const float* x, float* y, int tokens) {
    gemv<entro::FORM_U8>(p, x, y, tokens);
}

extern "C" __global__ void entro_gemv_u4(const entro::WeightParams p, const float* x, float* y, int tokens) {
    gemv<entro::FORM_U4>(p, x, y, tokens);
}

extern "C" __global__ void entro_gemv_f16(const entro::WeightParams p, const float* x, float* y, int tokens) {
    gemv<entro::FORM_F16>(p, x, y, tokens);
}

extern "C" __global__ void entro_gemv_bf16(const entro::WeightParams p, const float* x, float* y, int tokens) {
    gemv<entro::FORM_BF16>(p, x, y, tokens);
}

extern "C" __global__ void entro_embed_rows(const entro::WeightParams p, const int32_t* tokens, float* out) {
    const uint64_t first = p.first + static_cast<uint64_t>(tokens[blockIdx.x]) * p.cols;
    for (int i = threadIdx.x; i < p.cols; i += blockDim.x) out[static_cast<size_t>(blockIdx.x) * p.cols + i] = entro::weight_at(p, first + i);
}

extern "C" __global__ void entro_weights_to_f16(const entro::WeightParams p, __half* out) {
    const uint64_t n = static_cast<uint64_t>(p.rows) * p.cols;
    for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
        out[i] = __float2half_rn(entro::weight_at(p, p.first + i));
    }
}

extern "C" __global__ void entro_split_f16(const float* x, __half* hi, __half* lo, uint64_t n) {
    for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
        const __half h = __float2half_rn(x[i]);
        hi[i] = h;
        lo[i] = __float2half_rn(x[i] - __half2float(h));
    }
}
