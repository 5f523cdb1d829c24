// huffman_decode.cu: decode Huffman-coded .entro tensors into GPU memory, fused with dequantization.
//
// Thread mapping: one thread decodes one chunk (chunk_symbols consecutive symbols, independent of
// every other chunk thanks to the stored starting bit offsets). A warp decodes 32 consecutive
// chunks; blocks are 1-D, grid = ceil(n_chunks / blockDim.x). Each thread walks its chunk with a
// table_bits-wide window: one shared-memory lookup gives (symbol, code length) per symbol.
// Shared memory: the tensor's decode table, 2^table_bits u16 entries (8 KiB at the default 12-bit
// limit), copied cooperatively by the block before decoding (dynamic shared memory, sized by the
// launcher). Outputs: symbols only (u8, for bit-exact tests) or dequantized f32 / f16 / bf16 weights
// (group of symbol i = i / group_size). A corrupt chunk (invalid code, or a chunk that does not end
// exactly at the next chunk's first bit) records 1 + its index in *error and stops.
#include "entro_format.cuh"

namespace {

template <typename Out, bool kSymbolsOnly>
__device__ void decode_chunks(const entro::DecodeParams p, Out* out) {
    extern __shared__ uint16_t table[];
    const int table_size = 1 << p.table_bits;
    for (int i = threadIdx.x; i < table_size; i += blockDim.x) table[i] = p.table[i];
    __syncthreads();

    const int chunk = blockIdx.x * blockDim.x + threadIdx.x;
    if (chunk >= p.n_chunks) return;
    uint64_t pos = p.chunk_bits[chunk];
    const uint64_t end = chunk + 1 < p.n_chunks ? p.chunk_bits[chunk + 1] : p.total_bits;
    const uint64_t first = static_cast<uint64_t>(chunk) * p.chunk_symbols;
    const uint64_t last = min(first + static_cast<uint64_t>(p.chunk_symbols), p.n_symbols);
    if (end < pos || end > p.total_bits) { atomicCAS(p.error, 0, chunk + 1); return; }
    for (uint64_t i = first; i < last; ++i) {
        if (pos >= end) { atomicCAS(p.error, 0, chunk + 1); return; }
        const uint32_t entry = table[entro::peek_bits(p.words, pos, p.table_bits)];
        if (entry == 0) { atomicCAS(p.error, 0, chunk + 1); return; }
        const uint32_t symbol = entry >> 8;
        pos += entry & 0xFF;
        if (kSymbolsOnly) {
            out[i] = static_cast<Out>(symbol);
        } else {
            const uint64_t g = i / p.group_size;
            const float zero = p.scheme == entro::SCHEME_ASYM ? p.zeros[g] : 0.0f;
            out[i] = entro::from_float<Out>(entro::dequantize(p.scheme, p.bits, symbol, p.scales[g], zero, p.sign));
        }
    }
    if (pos != end) atomicCAS(p.error, 0, chunk + 1);
}

}  // namespace

extern "C" __global__ void entro_decode_symbols_u8(const entro::DecodeParams p, uint8_t* out) {
    decode_chunks<uint8_t, true>(p, out);
}

extern "C" __global__ void entro_decode_dequant_f32(const entro::DecodeParams p, float* out) {
    decode_chunks<float, false>(p, out);
}

extern "C" __global__ void entro_decode_dequant_f16(const entro::DecodeParams p, __half* out) {
    decode_chunks<__half, false>(p, out);
}

#if ENTRO_HAVE_BF16
extern "C" __global__ void entro_decode_dequant_bf16(const entro::DecodeParams p, __nv_bfloat16* out) {
    decode_chunks<__nv_bfloat16, false>(p, out);
}
#endif
