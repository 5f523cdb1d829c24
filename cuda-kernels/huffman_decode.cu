// huffman_decode.cu: decode Huffman-coded .entro tensors into GPU memory: into packed symbols (the
// form the matmuls of gemv.cu read), or fused with dequantization into weights.
//
// Thread mapping: one thread decodes one chunk (chunk_symbols consecutive symbols, independent of
// every other chunk thanks to the stored starting bit offsets); a warp decodes 32 consecutive
// chunks; blocks are 1-D (a multiple of 32 threads), grid = ceil(n_chunks / blockDim.x). The batched
// kernel decodes several tensors (a layer) in one grid: each tensor owns a contiguous range of blocks
// (BatchEntry.first_block), so all their chunks run concurrently instead of kernel after kernel. Each thread
// walks its chunk with a table_bits-wide window: one shared-memory lookup gives (symbol, code length).
// Writes are coalesced through shared memory: the warp decodes in rounds of 32 symbols per thread
// into a 32 x 33 staging tile (thread = row, padded against bank conflicts), then writes the tile out
// row by row, the 32 lanes covering 32 consecutive outputs of one chunk. A thread writing its own
// chunk directly would make every warp store touch 32 cache lines.
// Shared memory (dynamic, sized by the launcher): the tensor's decode table, 2^table_bits u16 entries
// (8 KiB at the default 12-bit limit), copied cooperatively before decoding, then one staging tile
// of 32 x 33 words per warp. Outputs: symbols one a byte (u8) or two a byte (u4, low nibble first:
// lanes 0..15 write one byte each of the tile row), or dequantized f32 / f16 / bf16 weights (group of
// symbol i = i / group_size). A corrupt chunk (invalid code, or a
// chunk that does not end exactly at the next chunk's first bit) records 1 + its index in *error and
// stops decoding (it keeps taking part in the warp's rounds; its outputs are then undefined).
#include "entro_format.cuh"

namespace {

constexpr int kTile = 32;        // symbols per thread per round, and chunks per warp
constexpr int kTileStride = 33;  // padded row: lane l writes word l*33+k, reads word r*33+l: no bank conflicts

__device__ __forceinline__ uint32_t warp_max(uint32_t v) {
    for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xFFFFFFFFu, v, o));
    return v;
}

template <typename Out, bool kSymbolsOnly, bool kNibbles = false>
__device__ void decode_chunks(const entro::DecodeParams& p, Out* out, const int block) {
    extern __shared__ uint32_t shared[];
    const int table_size = 1 << p.table_bits;
    uint16_t* table = reinterpret_cast<uint16_t*>(shared);
    for (int i = threadIdx.x; i < table_size; i += blockDim.x) table[i] = p.table[i];
    const int table_words = (table_size + 1) / 2;
    float* tile = reinterpret_cast<float*>(shared + table_words) + (threadIdx.x / 32) * (kTile * kTileStride);
    __syncthreads();

    const int lane = threadIdx.x & 31;
    const int chunk = block * blockDim.x + threadIdx.x;
    const int warp_first_chunk = chunk - lane;
    uint64_t pos = 0, end = 0, first = 0;
    uint32_t len = 0;
    bool ok = false;
    if (chunk < p.n_chunks) {
        pos = p.chunk_bits[chunk];
        end = chunk + 1 < p.n_chunks ? p.chunk_bits[chunk + 1] : p.total_bits;
        first = static_cast<uint64_t>(chunk) * p.chunk_symbols;
        len = static_cast<uint32_t>(min(first + static_cast<uint64_t>(p.chunk_symbols), p.n_symbols) - first);
        ok = !(end < pos || end > p.total_bits);
        if (!ok) atomicCAS(p.error, 0, chunk + 1);
    }
    const uint32_t rounds_len = warp_max(len);
    for (uint32_t base = 0; base < rounds_len; base += kTile) {
        for (int k = 0; k < kTile; ++k) {
            if (!ok || base + k >= len) break;
            if (pos >= end) { atomicCAS(p.error, 0, chunk + 1); ok = false; break; }
            const uint32_t entry = table[entro::peek_bits(p.words, pos, p.table_bits)];
            if (entry == 0) { atomicCAS(p.error, 0, chunk + 1); ok = false; break; }
            const uint32_t symbol = entry >> 8;
            pos += entry & 0xFF;
            float v;
            if (kSymbolsOnly) {
                v = static_cast<float>(symbol);
            } else {
                const uint64_t g = (first + base + k) / p.group_size;
                const float zero = p.scheme == entro::SCHEME_ASYM ? p.zeros[g] : 0.0f;
                v = entro::dequantize(p.scheme, p.bits, symbol, p.scales[g], zero, p.sign);
            }
            tile[lane * kTileStride + k] = v;
        }
        __syncwarp();
        for (int r = 0; r < kTile; ++r) {
            const int c = warp_first_chunk + r;
            if (c >= p.n_chunks) break;
            const uint64_t c_first = static_cast<uint64_t>(c) * p.chunk_symbols;
            const uint64_t c_last = min(c_first + static_cast<uint64_t>(p.chunk_symbols), p.n_symbols);
            if (kNibbles) {
                // lanes 0..15 each write the byte of symbols 2*lane and 2*lane + 1 of the round (chunk_symbols even,
                // so every chunk starts on a byte); a last odd symbol leaves the high nibble zero
                const uint64_t i = c_first + base + 2 * lane;
                if (lane < kTile / 2 && i < c_last) {
                    const uint32_t lo = static_cast<uint32_t>(tile[r * kTileStride + 2 * lane]);
                    const uint32_t hi = i + 1 < c_last ? static_cast<uint32_t>(tile[r * kTileStride + 2 * lane + 1]) : 0u;
                    reinterpret_cast<uint8_t*>(out)[i >> 1] = static_cast<uint8_t>(lo | (hi << 4));
                }
            } else {
                const uint64_t i = c_first + base + lane;
                if (i < c_last) out[i] = entro::from_float<Out>(tile[r * kTileStride + lane]);
            }
        }
        __syncwarp();
    }
    if (ok && pos != end) atomicCAS(p.error, 0, chunk + 1);
}

}  // namespace

extern "C" __global__ void entro_decode_symbols_u8(const entro::DecodeParams p, uint8_t* out) {
    decode_chunks<uint8_t, true>(p, out, blockIdx.x);
}

// Symbols two a byte, low nibble first (the packed u4 form), for 2..4-bit tensors with an even chunk_symbols.
extern "C" __global__ void entro_decode_symbols_u4(const entro::DecodeParams p, uint8_t* out) {
    decode_chunks<uint8_t, true, true>(p, out, blockIdx.x);
}

extern "C" __global__ void entro_decode_dequant_f32(const entro::DecodeParams p, float* out) {
    decode_chunks<float, false>(p, out, blockIdx.x);
}

extern "C" __global__ void entro_decode_dequant_f16(const entro::DecodeParams p, __half* out) {
    decode_chunks<__half, false>(p, out, blockIdx.x);
}

// Several tensors in one grid, symbols out in each entry's packed form (BatchEntry.out_form: 1 = one a
// byte, 2 = two a byte): what the engine computes from (gemv.cu) in the compressed and streamed modes.
extern "C" __global__ void entro_decode_batch_symbols(const entro::BatchEntry* entries, int n_entries) {
    int e = 0;
    while (e + 1 < n_entries && entries[e + 1].first_block <= blockIdx.x) ++e;
    const entro::DecodeParams p = entries[e].p;
    uint8_t* out = entries[e].out;
    const int block = static_cast<int>(blockIdx.x - entries[e].first_block);
    if (entries[e].out_form == entro::FORM_U4) decode_chunks<uint8_t, true, true>(p, out, block);
    else decode_chunks<uint8_t, true>(p, out, block);
}

#if ENTRO_HAVE_BF16
extern "C" __global__ void entro_decode_dequant_bf16(const entro::DecodeParams p, __nv_bfloat16* out) {
    decode_chunks<__nv_bfloat16, false>(p, out, blockIdx.x);
}
#endif
