/*
 * The inner loops of the CPU Huffman decoder in C, called from Java through the FFM API
 * (io.entrollm.codec.NativeHuffman). They are the loops of io.entrollm.codec.DecodeLanes, written
 * where the compiler can drop what plain Java cannot: the bounds check of each table lookup and of
 * each store, and the packing of four symbols into one checked store. Java prepares everything that
 * makes the loops safe and checks their results:
 *   - bytes: the group's words as big-endian bytes with zeroed room for any lane's worst-case reads
 *     (each lookup consumes at most table_bits bits, and no lane looks up more often than it has
 *     symbols), so a 64-bit window is one unaligned 8-byte load, a byte swap and a shift;
 *   - a complete prefix code, so every index of the tables is a code (no invalid entries);
 *   - out[at[l] .. at[l] + count[l]) inside the output array; stores never pass a lane's end;
 *   - afterwards, that each lane ended exactly at its chunk's end bit (a corrupt chunk cannot).
 * Tables (io.entrollm.codec.DecodeTables): single[i] = length | symbol << 8 | symbol << 16 | symbol << 24;
 * multi[i] = total length | symbols (bytes 1-6) | count << 56, or NULL where it would not pay.
 *
 * C11, little-endian hosts (x86-64, AArch64: a Jetson's cores); no intrinsics beyond the byte swap.
 */
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "entro_huffman.c assumes a little-endian host (x86-64, AArch64)"
#endif

#define EXPORT __attribute__((visibility("default")))

/* The 64 bits of the stream from bit pos of bytes, left-aligned (at least 57 meaningful). */
static inline uint64_t window(const uint8_t *bytes, int64_t pos) {
    uint64_t v;
    memcpy(&v, bytes + (pos >> 3), 8);
    return __builtin_bswap64(v) << (pos & 7);
}

static inline void store32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void store64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* One lane alone: count symbols from bit pos into o; several a lookup while 8 output bytes remain. Returns the end bit. */
static int64_t lane(const uint8_t *bytes, const uint32_t *single, const uint64_t *multi, int shift,
                    int64_t pos, uint8_t *o, int32_t count) {
    uint8_t *end = o + count;
    if (multi) {
        while (end - o >= 8) {
            uint64_t x = multi[window(bytes, pos) >> shift];
            store64(o, x >> 8);
            o += x >> 56;
            pos += x & 0xFF;
        }
    }
    for (; o < end; o++) {
        uint32_t e = single[window(bytes, pos) >> shift];
        *o = (uint8_t) (e >> 8);
        pos += e & 0xFF;
    }
    return pos;
}

/*
 * Eight lanes in lockstep with the 1-symbol table: four lookups per 64-bit window and lane (codes of
 * at most 14 bits: four fit in the 57 bits a window surely holds), their symbols leaving in one 4-byte store; the eight chains are independent, so
 * the core overlaps them. Runs while every lane has four symbols left; the tails go to lane().
 */
static void eight_singles(const uint8_t *bytes, const uint32_t *t, int shift, int64_t *pos,
                          uint8_t *const *o, const int32_t *count) {
    int32_t steps = count[0];
    for (int l = 1; l < 8; l++) if (count[l] < steps) steps = count[l];
    steps &= ~3;
    int64_t p0 = pos[0], p1 = pos[1], p2 = pos[2], p3 = pos[3], p4 = pos[4], p5 = pos[5], p6 = pos[6], p7 = pos[7];
    uint8_t *o0 = o[0], *o1 = o[1], *o2 = o[2], *o3 = o[3], *o4 = o[4], *o5 = o[5], *o6 = o[6], *o7 = o[7];
#define LOOK(w, e) e = t[w >> shift]; w <<= (e & 63);
#define FOUR(i) { \
        uint64_t w = window(bytes, p##i); uint32_t a, b, c, d; \
        LOOK(w, a) LOOK(w, b) LOOK(w, c) d = t[w >> shift]; \
        store32(o##i + k, (a >> 8 & 0xFF) | (b & 0xFF00) | (c & 0xFF0000) | (d & 0xFF000000u)); \
        p##i += (a + b + c + d) & 0xFF; }
    for (int32_t k = 0; k < steps; k += 4) {
        FOUR(0) FOUR(1) FOUR(2) FOUR(3) FOUR(4) FOUR(5) FOUR(6) FOUR(7)
    }
#undef FOUR
#undef LOOK
    pos[0] = p0; pos[1] = p1; pos[2] = p2; pos[3] = p3; pos[4] = p4; pos[5] = p5; pos[6] = p6; pos[7] = p7;
    for (int l = 0; l < 8; l++) pos[l] = lane(bytes, t, 0, shift, pos[l], o[l] + steps, count[l] - steps);
}

/*
 * Four lanes in lockstep with the multi-symbol table: each lookup writes up to six symbols with one
 * 8-byte store (bytes past the count are overwritten by the next store). Runs while every lane has
 * more than 32 symbols left (four lookups never pass its end), then one lookup per lane in turn while
 * a lane has 8 bytes left, then lane() for the last few symbols.
 */
static void four_multi(const uint8_t *bytes, const uint32_t *single, const uint64_t *m, int shift,
                       int64_t *pos, uint8_t *const *o, const int32_t *count) {
    int64_t p0 = pos[0], p1 = pos[1], p2 = pos[2], p3 = pos[3];
    uint8_t *o0 = o[0], *o1 = o[1], *o2 = o[2], *o3 = o[3];
    uint8_t *end[4] = {o[0] + count[0], o[1] + count[1], o[2] + count[2], o[3] + count[3]};
    uint8_t *e0 = end[0] - 32, *e1 = end[1] - 32, *e2 = end[2] - 32, *e3 = end[3] - 32;
#define LOOK(i, w, x) x = m[w >> shift]; store64(o##i, x >> 8); o##i += x >> 56; w <<= (x & 63);
#define FOUR(i) { \
        uint64_t w = window(bytes, p##i), x, y, z, u; \
        LOOK(i, w, x) LOOK(i, w, y) LOOK(i, w, z) LOOK(i, w, u) \
        p##i += (x + y + z + u) & 0xFF; }
    if (count[0] > 32 && count[1] > 32 && count[2] > 32 && count[3] > 32) {
        while (o0 < e0 && o1 < e1 && o2 < e2 && o3 < e3) {
            FOUR(0) FOUR(1) FOUR(2) FOUR(3)
        }
    }
#undef FOUR
#undef LOOK
    int64_t p[4] = {p0, p1, p2, p3};
    uint8_t *q[4] = {o0, o1, o2, o3};
    for (int more = 1; more;) {
        more = 0;
        for (int l = 0; l < 4; l++) {
            if (end[l] - q[l] < 8) continue;
            uint64_t x = m[window(bytes, p[l]) >> shift];
            store64(q[l], x >> 8);
            q[l] += x >> 56;
            p[l] += x & 0xFF;
            more = 1;
        }
    }
    for (int l = 0; l < 4; l++) pos[l] = lane(bytes, single, m, shift, p[l], q[l], (int32_t) (end[l] - q[l]));
}

/*
 * Decodes `lanes` chunks of one group: lane l holds count[l] symbols starting at bit pos[l] of bytes,
 * decoded into out + at[l]; on return pos[l] is the bit where lane l stopped (Java compares it with the
 * chunk's end). multi == NULL: eight lanes in lockstep with the 1-symbol table; else four.
 */
EXPORT void entro_huffman_decode_lanes(const uint8_t *bytes, const uint32_t *single, const uint64_t *multi,
                                       int32_t table_bits, int32_t lanes, int64_t *pos, const int32_t *at,
                                       const int32_t *count, uint8_t *out) {
    int shift = 64 - table_bits;
    uint8_t *o[8];
    int l = 0;
    if (table_bits > 12) multi = 0;   /* four multi lookups a window need 4 x table_bits <= 57; Java builds none past 12 */
    if (multi) {
        for (; l + 4 <= lanes; l += 4) {
            for (int i = 0; i < 4; i++) o[i] = out + at[l + i];
            four_multi(bytes, single, multi, shift, pos + l, o, count + l);
        }
    } else {
        /* four lookups a window need 4 x table_bits <= 57 (see DecodeTables.LOCKSTEP_MAX_TABLE_BITS) */
        for (; table_bits <= 14 && l + 8 <= lanes; l += 8) {
            for (int i = 0; i < 8; i++) o[i] = out + at[l + i];
            eight_singles(bytes, single, shift, pos + l, o, count + l);
        }
    }
    for (; l < lanes; l++) pos[l] = lane(bytes, single, multi, shift, pos[l], out + at[l], count[l]);
}

/* The version of this library's interface; Java refuses a library whose version differs. */
EXPORT int32_t entro_huffman_abi_version(void) { return 1; }
