package io.entrollm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A GGML block split, losslessly, into its weights' quantized values ("symbols", one per weight, in
 * element order) and the rest of its bytes ("side": scales, minimums, super-block scales, in block
 * order), and joined back bit for bit. This is what lets {@code compress --keep-quantization}
 * entropy-code a llama.cpp file's quantized values without changing a weight, and give the file back.
 *
 * <p>Each element's value lies in up to two bit fields of the block (ggml-common.h's layouts; the same
 * positions {@link GgmlDequant} reads), low bits first. The tables below map every element to its fields;
 * the class checks when it loads that the fields of a type cover each quantized bit exactly once, so
 * split and join are inverse bijections. Signed 8-bit values are kept as their byte (0..255).
 */
public final class GgmlSymbols {
    /** One bit field: {@code width} bits at {@code shift} of block byte {@code at}. */
    private record Field(int at, int shift, int width) {}

    /** A block type's element-to-field map and the bytes that hold no quantized value. */
    private record Layout(int bits, Field[][] fields, int[] sideBytes) {}

    private static final Layout[] LAYOUTS = new Layout[DType.values().length];

    static {
        for (DType t : DType.values()) if (t.isBlockQuantized()) LAYOUTS[t.ordinal()] = layout(t);
    }

    private GgmlSymbols() {}

    /** Bits of one symbol of {@code dtype} (Q8_0: 8, Q4_K: 4, Q6_K: 6, ...). */
    public static int bits(DType dtype) { return layout0(dtype).bits; }

    /** Bytes of a block of {@code dtype} that are not quantized values. */
    public static int sideBytes(DType dtype) { return layout0(dtype).sideBytes.length; }

    /** Splits {@code blocks} consecutive blocks at {@code data} into {@code symbols[blocks * blockElements]} and {@code side[blocks * sideBytes]}. */
    public static void split(DType dtype, MemorySegment data, long blocks, byte[] symbols, byte[] side) {
        Layout l = layout0(dtype);
        int n = dtype.blockElements(), bb = dtype.blockBytes(), sb = l.sideBytes.length;
        byte[] block = new byte[bb];
        for (long b = 0; b < blocks; b++) {
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, b * bb, block, 0, bb);
            int s0 = Math.toIntExact(b * n);
            for (int i = 0; i < n; i++) {
                int v = 0, pos = 0;
                for (Field f : l.fields[i]) {
                    v |= ((block[f.at] & 0xFF) >>> f.shift & ((1 << f.width) - 1)) << pos;
                    pos += f.width;
                }
                symbols[s0 + i] = (byte) v;
            }
            int c0 = Math.toIntExact(b * sb);
            for (int k = 0; k < sb; k++) side[c0 + k] = block[l.sideBytes[k]];
        }
    }

    /** The inverse of {@link #split}: blocks written to {@code out} from symbols and side bytes. */
    public static void join(DType dtype, byte[] symbols, byte[] side, long blocks, MemorySegment out) {
        Layout l = layout0(dtype);
        int n = dtype.blockElements(), bb = dtype.blockBytes(), sb = l.sideBytes.length;
        byte[] block = new byte[bb];
        for (long b = 0; b < blocks; b++) {
            java.util.Arrays.fill(block, (byte) 0);
            int s0 = Math.toIntExact(b * n);
            for (int i = 0; i < n; i++) {
                int v = symbols[s0 + i] & 0xFF, pos = 0;
                for (Field f : l.fields[i]) {
                    block[f.at] |= (byte) ((v >>> pos & ((1 << f.width) - 1)) << f.shift);
                    pos += f.width;
                }
            }
            int c0 = Math.toIntExact(b * sb);
            for (int k = 0; k < sb; k++) block[l.sideBytes[k]] = side[c0 + k];
            MemorySegment.copy(block, 0, out, ValueLayout.JAVA_BYTE, b * bb, bb);
        }
    }

    private static Layout layout0(DType dtype) {
        Layout l = dtype.isBlockQuantized() ? LAYOUTS[dtype.ordinal()] : null;
        if (l == null) throw new IllegalArgumentException(dtype + " is not a GGML block type");
        return l;
    }

    private static Field[] f(int at, int shift, int width) { return new Field[] {new Field(at, shift, width)}; }

    private static Field[] f(int at, int shift, int width, int at2, int shift2, int width2) {
        return new Field[] {new Field(at, shift, width), new Field(at2, shift2, width2)};
    }

    /** Where element {@code i} of a block lives, by ggml-common.h (offsets as in {@link GgmlDequant}). */
    private static Field[] fieldsOf(DType t, int i) {
        int nib = i < 16 ? 0 : 4, s = i / 32, h = i / 128, plane = i % 128 / 32, l = i % 32;
        return switch (t) {
            case Q8_0 -> f(2 + i, 0, 8);
            case Q4_0 -> f(2 + i % 16, nib, 4);
            case Q4_1 -> f(4 + i % 16, nib, 4);
            case Q5_0 -> f(6 + i % 16, nib, 4, 2 + i / 8, i % 8, 1);
            case Q5_1 -> f(8 + i % 16, nib, 4, 4 + i / 8, i % 8, 1);
            case Q2_K -> f(16 + 32 * h + l, 2 * plane, 2);
            case Q3_K -> f(32 + 32 * h + l, 2 * plane, 2, l, 4 * h + plane, 1);
            case Q4_K -> f(16 + 32 * (s / 2) + l, s % 2 * 4, 4);
            case Q5_K -> f(48 + 32 * (s / 2) + l, s % 2 * 4, 4, 16 + l, s, 1);
            case Q6_K -> f(64 * h + l + plane % 2 * 32, plane < 2 ? 0 : 4, 4, 128 + 32 * h + l, 2 * plane, 2);
            case Q8_K -> f(4 + i, 0, 8);
            default -> throw new AssertionError(t);
        };
    }

    /** Builds a type's tables and checks them: every element's fields inside the block, no quantized bit used twice. */
    private static Layout layout(DType t) {
        int n = t.blockElements(), bb = t.blockBytes();
        Field[][] fields = new Field[n][];
        int[] used = new int[bb];   // bit masks of quantized bits per byte
        int bits = 0;
        for (int i = 0; i < n; i++) {
            fields[i] = fieldsOf(t, i);
            int w = 0;
            for (Field f : fields[i]) {
                int mask = ((1 << f.width) - 1) << f.shift;
                if (f.at >= bb || (used[f.at] & mask) != 0 || mask > 0xFF) throw new AssertionError(t + " element " + i + " overlaps");
                used[f.at] |= mask;
                w += f.width;
            }
            if (i > 0 && w != bits) throw new AssertionError(t + " elements of unequal width");
            bits = w;
        }
        List<Integer> side = new ArrayList<>();
        for (int k = 0; k < bb; k++) {
            if (used[k] == 0) side.add(k);
            else if (used[k] != 0xFF) throw new AssertionError(t + " byte " + k + " is partly quantized bits");
        }
        return new Layout(bits, fields, side.stream().mapToInt(Integer::intValue).toArray());
    }
}
