// llama_ops.cu: the non-matmul operations of a Llama-family decoder layer, float32 activations, the
// KV cache in f16 (half the bytes attention reads per token; llama.cpp's default too).
// Matmuls go through gemv.cu and cuBLAS; these kernels do what lies between them. Conventions follow the CPU
// reference io.entrollm.infer.LlamaCpu (Hugging Face semantics): RMSNorm in fp32, rotate-half RoPE,
// causal grouped-query attention over a KV cache laid out [pos][kv_head][head_dim], SwiGLU.
// C++14, no bf16 needed: builds for every CUDA_ARCHS target including sm_53 (f16 conversions only).
#include <stdint.h>
#include <math.h>
#include <cuda_fp16.h>

namespace {

// Block-wide sum of one float per thread (blockDim.x a multiple of 32, <= 1024).
__device__ float block_sum(float v) {
    __shared__ float partial[32];
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    const int warps = (blockDim.x + 31) >> 5;
    v = threadIdx.x < warps ? partial[threadIdx.x] : 0.0f;
    if (warp == 0) for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    __shared__ float total;
    if (threadIdx.x == 0) total = v;
    __syncthreads();
    return total;
}

__device__ float block_max(float v) {
    __shared__ float partial[32];
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    const int warps = (blockDim.x + 31) >> 5;
    v = threadIdx.x < warps ? partial[threadIdx.x] : -INFINITY;
    if (warp == 0) for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
    __shared__ float total;
    if (threadIdx.x == 0) total = v;
    __syncthreads();
    return total;
}

}  // namespace

// RMSNorm: one block per row (token); threads stride over the row's n elements.
// out[r][i] = weight[i] * (x[r][i] / sqrt(mean(x[r]^2) + eps)).
extern "C" __global__ void llama_rmsnorm_f32(const float* x, const float* weight, float* out, int n, float eps) {
    const float* row = x + (size_t)blockIdx.x * n;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += row[i] * row[i];
    ss = block_sum(ss);
    const float inv = rsqrtf(ss / n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) out[(size_t)blockIdx.x * n + i] = weight[i] * (row[i] * inv);
}

// Embedding gather: one block per token, threads over the dim elements of its row.
extern "C" __global__ void llama_embed_f32(const float* table, const int32_t* tokens, float* out, int dim) {
    const float* row = table + (size_t)tokens[blockIdx.x] * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[(size_t)blockIdx.x * dim + i] = row[i];
}

// Rotate-half RoPE in place on q [T][heads][head_dim] and k [T][kv_heads][head_dim]. One thread per
// (token, head, i < head_dim/2) over q's heads followed by k's heads; position = *pos0 + token.
// inv_freq holds head_dim/2 inverse frequencies (already scaled for llama3/linear RoPE). The first
// position is read from device memory (uploaded with the token ids), so a captured pass (CUDA graph)
// replays at every position.
extern "C" __global__ void llama_rope_f32(float* q, float* k, const float* inv_freq, int tokens, int heads, int kv_heads,
                                          int head_dim, const int32_t* pos0_at) {
    const int pos0 = *pos0_at;
    const int half = head_dim / 2;
    const int per_token = (heads + kv_heads) * half;
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= tokens * per_token) return;
    const int t = idx / per_token, rest = idx % per_token, h = rest / half, i = rest % half;
    float* base = h < heads ? q + ((size_t)t * heads + h) * head_dim : k + ((size_t)t * kv_heads + (h - heads)) * head_dim;
    float s, c;
    sincosf((float)(pos0 + t) * inv_freq[i], &s, &c);
    const float x0 = base[i], x1 = base[i + half];
    base[i] = x0 * c - x1 * s;
    base[i + half] = x1 * c + x0 * s;
}

// Causal attention over the f16 caches: one block per (token, head); grid = (heads, tokens). Scores over the cache
// positions [0, *pos0 + t] live in dynamic shared memory (at least *pos0 + tokens floats, the launcher
// sizes it), then a block-wide softmax, then each thread accumulates head_dim outputs over the positions.
extern "C" __global__ void llama_attention_f32(const float* q, const __half* k_cache, const __half* v_cache, float* out,
                                               int heads, int kv_heads, int head_dim, const int32_t* pos0_at, float scale) {
    extern __shared__ float scores[];
    const int pos0 = *pos0_at;
    const int h = blockIdx.x, t = blockIdx.y, kvh = h / (heads / kv_heads), n = pos0 + t + 1;
    const int kv_stride = kv_heads * head_dim;
    const float* qv = q + ((size_t)t * heads + h) * head_dim;
    for (int s = threadIdx.x; s < n; s += blockDim.x) {
        const __half* kv = k_cache + (size_t)s * kv_stride + kvh * head_dim;
        float dot = 0.0f;
        for (int d = 0; d < head_dim; ++d) dot += qv[d] * __half2float(kv[d]);
        scores[s] = dot * scale;
    }
    __syncthreads();
    float m = -INFINITY;
    for (int s = threadIdx.x; s < n; s += blockDim.x) m = fmaxf(m, scores[s]);
    m = block_max(m);
    float sum = 0.0f;
    for (int s = threadIdx.x; s < n; s += blockDim.x) {
        const float e = expf(scores[s] - m);
        scores[s] = e;
        sum += e;
    }
    sum = block_sum(sum);
    const float inv = 1.0f / sum;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float acc = 0.0f;
        for (int s = 0; s < n; ++s) acc += scores[s] * __half2float(v_cache[(size_t)s * kv_stride + kvh * head_dim + d]);
        out[((size_t)t * heads + h) * head_dim + d] = acc * inv;
    }
}

// The pass's keys and values (T x kv_dim each, RoPE applied) into the f16 caches at position *pos0:
// k_cache[*pos0 * kv_dim + i] = f16(k_new[i]) (round to nearest even), same for v; one thread per
// element of the T x kv_dim block.
extern "C" __global__ void llama_kv_append_f32(const float* k_new, const float* v_new, __half* k_cache, __half* v_cache, int n, int kv_dim,
                                               const int32_t* pos0_at) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const size_t at = static_cast<size_t>(*pos0_at) * kv_dim + i;
    k_cache[at] = __float2half_rn(k_new[i]);
    v_cache[at] = __float2half_rn(v_new[i]);
}

// gate[i] = silu(gate[i]) * up[i]; one thread per element.
extern "C" __global__ void llama_silu_mul_f32(float* gate, const float* up, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        const float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

// x[i] += y[i]; one thread per element (residual connections).
extern "C" __global__ void llama_add_f32(float* x, const float* y, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += y[i];
}

// out[r][c] += bias[c] for rows x cols; one thread per element (q/k/v/o projection biases).
extern "C" __global__ void llama_add_bias_f32(float* out, const float* bias, int rows, int cols) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < rows * cols) out[i] += bias[i % cols];
}
