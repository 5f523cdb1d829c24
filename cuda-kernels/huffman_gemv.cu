// huffman_gemv.cu: a matmul straight from Huffman-coded weights (the experimental fused mode,
// `--residency compressed --fused`): each symbol is decoded, dequantized and multiplied as it comes,
// and no weight, symbol or float, is written anywhere. Generation only (up to kTokens tokens).
//
// Thread mapping: one thread per chunk of the tensor that overlaps the view's elements (chunk c holds
// elements [c * chunk_symbols, (c + 1) * chunk_symbols)); 128 threads per block, 1-D grid starting
// at chunk first_chunk. A thread walks its chunk as huffman_decode.cu does (a table_bits-wide window,
// one shared-memory lookup per symbol), dequantizes each symbol of the view with its group's scale
// through the reference dequantization, and accumulates w * x[t][col] in registers for each token;
// at each row boundary, and at the end of its chunk, it adds its partial sums to y[t][row] with
// atomicAdd: a row spans several chunks and a chunk several rows. So y must be zeroed first, and the
// order of the additions (so the last bits of y) varies from run to run. x is read by column: the
// 32 threads of a warp read 32 different places of it (it is small and stays in cache).
// Shared memory (dynamic, sized by the launcher): the decode table, 2^table_bits u16 entries.
// Errors as in huffman_decode.cu: an invalid code, a chunk that runs past its end, or (for a chunk
// read to its end) one that does not end exactly at the next chunk's first bit records 1 + its
// index in *p.error and stops the thread.
// sm_53: float atomicAdd on global memory exists from sm_20; no other atomics but atomicCAS.
#include "entro_format.cuh"

namespace {
constexpr int kTokens = 8;
}  // namespace

extern "C" __global__ void entro_gemv_huffman(const entro::DecodeParams p, const entro::WeightParams v, const float* x, float* y, int tokens,
                                              int first_chunk) {
    extern __shared__ uint32_t shared[];
    uint16_t* table = reinterpret_cast<uint16_t*>(shared);
    const int table_size = 1 << p.table_bits;
    for (int i = threadIdx.x; i < table_size; i += blockDim.x) table[i] = p.table[i];
    __syncthreads();

    const int chunk = first_chunk + static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (chunk >= p.n_chunks) return;
    const uint64_t view_first = v.first, view_end = v.first + static_cast<uint64_t>(v.rows) * v.cols;
    const uint64_t c_first = static_cast<uint64_t>(chunk) * p.chunk_symbols;
    const uint64_t c_end = min(c_first + static_cast<uint64_t>(p.chunk_symbols), p.n_symbols);
    if (c_first >= view_end || c_end <= view_first) return;
    uint64_t pos = p.chunk_bits[chunk];
    const uint64_t end = chunk + 1 < p.n_chunks ? p.chunk_bits[chunk + 1] : p.total_bits;
    if (end < pos || end > p.total_bits) {
        atomicCAS(p.error, 0, chunk + 1);
        return;
    }
    float acc[kTokens];
    for (int t = 0; t < kTokens; ++t) acc[t] = 0.0f;
    int row = -1, col = 0;
    uint64_t group_end = 0;
    float scale = 0.0f, zero = 0.0f;
    uint64_t i = c_first;
    for (; i < c_end; ++i) {
        if (pos >= end) {
            atomicCAS(p.error, 0, chunk + 1);
            return;
        }
        const uint32_t entry = table[entro::peek_bits(p.words, pos, p.table_bits)];
        if (entry == 0) {
            atomicCAS(p.error, 0, chunk + 1);
            return;
        }
        pos += entry & 0xFF;
        if (i < view_first) continue;
        if (i >= view_end) break;
        if (row < 0) {
            row = static_cast<int>((i - view_first) / v.cols);
            col = static_cast<int>((i - view_first) % v.cols);
        }
        if (i >= group_end) {
            const uint64_t g = i / p.group_size;
            group_end = (g + 1) * p.group_size;
            scale = p.scales[g];
            zero = p.scheme == entro::SCHEME_ASYM ? p.zeros[g] : 0.0f;
        }
        const float w = entro::dequantize(p.scheme, p.bits, entry >> 8, scale, zero, p.sign);
        for (int t = 0; t < kTokens; ++t) {
            if (t < tokens) acc[t] += w * x[static_cast<size_t>(t) * v.cols + col];
        }
        if (++col == v.cols) {
            for (int t = 0; t < tokens && t < kTokens; ++t) {
                atomicAdd(&y[static_cast<size_t>(t) * v.rows + row], acc[t]);
                acc[t] = 0.0f;
            }
            ++row;
            col = 0;
        }
    }
    if (row >= 0 && col > 0) {
        for (int t = 0; t < tokens && t < kTokens; ++t) atomicAdd(&y[static_cast<size_t>(t) * v.rows + row], acc[t]);
    }
    if (i == c_end && pos != end) atomicCAS(p.error, 0, chunk + 1);
}
