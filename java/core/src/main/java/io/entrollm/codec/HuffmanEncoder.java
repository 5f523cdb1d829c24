package io.entrollm.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Encodes symbols into a {@link HuffmanStream} on all cores, in one pass over the symbols: each task
 * codes its range of chunks contiguously from bit 0 of a private buffer, noting where each chunk
 * starts; the chunk offsets are then prefix-summed, and each task's buffer is shifted into place
 * (neighbouring tasks share at most one word, and their bits never overlap).
 */
public final class HuffmanEncoder {
    public static final int DEFAULT_CHUNK_SYMBOLS = 4096;
    public static final int DEFAULT_MAX_CODE_LENGTH = 12;
    private static final int CHUNKS_PER_TASK = 64;
    /** Two codes of at most 12 bits and their total length (6 bits) fit one int entry of the pair table below its sign bit. */
    private static final int PAIR_MAX_CODE_LENGTH = 12;
    /** Below this the pair table (65,536 entries, ~0.2 ms to build) costs more than it saves. */
    private static final int PAIR_TABLE_MIN_SYMBOLS = 1 << 16;
    private static final int NO_PAIR = Integer.MIN_VALUE;
    /** Per-thread coding buffers (a task of 64 chunks of 4096 symbols needs at most 512 KiB), kept up to 4 MiB. */
    private static final ThreadLocal<int[]> SCRATCH = ThreadLocal.withInitial(() -> new int[0]);
    private static final int KEPT_SCRATCH_INTS = 1 << 20;
    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    private HuffmanEncoder() {}

    public static HuffmanStream encode(byte[] symbols, HuffmanCodebook codebook, int chunkSymbols) {
        return encode(symbols, codebook, chunkSymbols, true);
    }

    /** The same stream, encoded on the calling thread only (for single-thread benchmarks). */
    public static HuffmanStream encodeSingleThread(byte[] symbols, HuffmanCodebook codebook, int chunkSymbols) {
        return encode(symbols, codebook, chunkSymbols, false);
    }

    /** One task's output: its chunks' codes from bit 0, and each chunk's starting bit within them. */
    private record TaskBits(int[] words, long[] chunkStarts, long bits) {}

    private static HuffmanStream encode(byte[] symbols, HuffmanCodebook codebook, int chunkSymbols, boolean parallel) {
        if (chunkSymbols < 1) throw new IllegalArgumentException("chunk size must be positive");
        int chunks = HuffmanStream.chunkCount(symbols.length, chunkSymbols);
        // code << 5 | length per symbol value (codes are at most 16 bits; length 0: no code)
        int[] codes = new int[256];
        for (int v = 0; v < Math.min(256, codebook.alphabetSize()); v++) codes[v] = codebook.code(v) << 5 | codebook.length(v);
        int[] pairs = symbols.length >= PAIR_TABLE_MIN_SYMBOLS && codebook.maxLength() <= PAIR_MAX_CODE_LENGTH ? pairCodes(codes) : null;
        int tasks = (chunks + CHUNKS_PER_TASK - 1) / CHUNKS_PER_TASK;
        TaskBits[] parts = new TaskBits[tasks];
        range(0, tasks, parallel).forEach(t -> parts[t] = codeTask(symbols, t, chunks, chunkSymbols, codes, pairs, Math.max(1, codebook.maxLength())));
        long[] offsets = new long[chunks];
        long[] taskStart = new long[tasks];
        long total = 0;
        for (int t = 0; t < tasks; t++) {
            taskStart[t] = total;
            long[] starts = parts[t].chunkStarts();
            for (int k = 0; k < starts.length; k++) offsets[t * CHUNKS_PER_TASK + k] = total + starts[k];
            total += parts[t].bits();
        }
        int[] words = new int[HuffmanStream.wordCount(total)];
        // neighbouring tasks share the word where one ends and the next begins: in parallel each task stores only
        // the words inside its span, then one thread ORs every task's two edge words (an OR of two threads into
        // one word could lose the other's bits: it did, about once in 30,000 encodes)
        range(0, tasks, parallel).forEach(t -> placeInner(parts[t], taskStart[t], words));
        for (int t = 0; t < tasks; t++) placeEdges(parts[t], taskStart[t], words);
        return new HuffmanStream(codebook, symbols.length, chunkSymbols, offsets, words, total);
    }

    /**
     * The codes of every two consecutive symbols as one entry, indexed by the two bytes as a
     * little-endian short: {@code (codeA << lengthB | codeB) << 6 | (lengthA + lengthB)}, or {@link #NO_PAIR}
     * (length 0 and the sign bit, which two 12-bit codes never reach) when either has no code. One lookup
     * and one accumulator step per two symbols (2.2x faster than two).
     */
    private static int[] pairCodes(int[] codes) {
        int[] pairs = new int[1 << 16];
        for (int a = 0; a < 256; a++) {
            int la = codes[a] & 31;
            for (int b = 0; b < 256; b++) {
                int lb = codes[b] & 31;
                pairs[a | b << 8] = la == 0 || lb == 0 ? NO_PAIR : ((codes[a] >>> 5) << lb | (codes[b] >>> 5)) << 6 | (la + lb);
            }
        }
        return pairs;
    }

    private static IntStream range(int from, int to, boolean parallel) {
        IntStream r = IntStream.range(from, to);
        return parallel ? r.parallel() : r;
    }

    /**
     * Codes task {@code t}'s chunks MSB first from bit 0, two symbols a step (one pair-table lookup
     * where there is a table). A 64-bit accumulator collects codes right-aligned and {@code bits} counts
     * them; a step adds at most 32 bits, so it completes at most one word, and every step stores the
     * last complete word, {@code (int) (acc >>> bits % 32)}, at {@code out[bits / 32]}: word k of the
     * task lands in {@code out[k + 1]} (branch-free: a repeated store writes the same value, and before
     * the first word is complete the stores go to the spare {@code out[0]}). The only value carried from
     * step to step besides the accumulator is one sum.
     */
    private static TaskBits codeTask(byte[] symbols, int t, int chunks, int chunkSymbols, int[] codes, int[] pairs, int maxLength) {
        int firstChunk = t * CHUNKS_PER_TASK, lastChunk = Math.min(chunks, firstChunk + CHUNKS_PER_TASK);
        int from = firstChunk * chunkSymbols, to = (int) Math.min(symbols.length, (long) lastChunk * chunkSymbols);
        int[] out = scratch((int) (((long) (to - from) * maxLength + 31) / 32) + 2);
        long[] starts = new long[lastChunk - firstChunk];
        long acc = 0, bits = 0;
        int missing = 0;
        for (int c = firstChunk; c < lastChunk; c++) {
            starts[c - firstChunk] = bits;
            int i = c * chunkSymbols, end = (int) Math.min(to, (long) i + chunkSymbols);
            if (pairs != null) {
                for (; i + 1 < end; i += 2) {
                    int x = pairs[(short) SHORT_LE.get(symbols, i) & 0xFFFF];
                    missing |= x;                    // negative once a symbol has no code (its entry is NO_PAIR)
                    acc = acc << x | (x >>> 6);      // a long shift takes the count's low 6 bits: the length
                    bits += x & 63;
                    out[(int) (bits >>> 5)] = (int) (acc >>> (bits & 31));
                }
            }
            for (; i + 1 < end; i += 2) {
                int a = codes[symbols[i] & 0xFF], b = codes[symbols[i + 1] & 0xFF];
                int la = a & 31, lb = b & 31;
                missing |= (la - 1) | (lb - 1);     // negative once a symbol has no code
                acc = (acc << la | (a >>> 5)) << lb | (b >>> 5);
                bits += la + lb;
                out[(int) (bits >>> 5)] = (int) (acc >>> (bits & 31));
            }
            if (i < end) {
                int a = codes[symbols[i] & 0xFF], la = a & 31;
                missing |= la - 1;
                acc = acc << la | (a >>> 5);
                bits += la;
                out[(int) (bits >>> 5)] = (int) (acc >>> (bits & 31));
            }
        }
        if (missing < 0) {
            for (int i = from; i < to; i++) {
                if ((codes[symbols[i] & 0xFF] & 31) == 0) throw new IllegalArgumentException("symbol " + (symbols[i] & 0xFF) + " has no code");
            }
        }
        int complete = (int) (bits >>> 5), rest = (int) (bits & 31);
        if (rest > 0) out[complete + 1] = (int) (acc << (32 - rest));
        return new TaskBits(Arrays.copyOfRange(out, 1, complete + 2), starts, bits);
    }

    /** A buffer of at least {@code ints}, reused by the thread (every word the coder keeps is overwritten before it is read). */
    private static int[] scratch(int ints) {
        int[] buffer = SCRATCH.get();
        if (buffer.length >= ints) return buffer;
        buffer = new int[ints];
        if (ints <= KEPT_SCRATCH_INTS) SCRATCH.set(buffer);
        return buffer;
    }

    /**
     * Word {@code k} of a task's bits placed at bit {@code start}, i.e. stream word {@code start / 32 + k}: its
     * bits shifted right by {@code start % 32} (with the previous word's low bits above them).
     */
    private static int placedWord(int[] src, int count, int shift, int k) {
        int own = k < count ? src[k] : 0;
        if (shift == 0) return own;
        return own >>> shift | (k >= 1 ? src[k - 1] << (32 - shift) : 0);
    }

    /** The stream words a task's bits touch: {@code [first, last]}, or null for a task of no bits. */
    private static int[] span(long start, long bits) {
        return bits == 0 ? null : new int[] {(int) (start >>> 5), (int) ((start + bits - 1) >>> 5)};
    }

    /** The words strictly inside the task's span, which no other task touches (safe to run in parallel). */
    private static void placeInner(TaskBits part, long start, int[] words) {
        int[] span = span(start, part.bits());
        if (span == null) return;
        int count = (int) ((part.bits() + 31) >>> 5), shift = (int) (start & 31);
        for (int w = span[0] + 1; w < span[1]; w++) words[w] = placedWord(part.words(), count, shift, w - span[0]);
    }

    /** The task's first and last words, which its neighbours may share: ORed, one task at a time. */
    private static void placeEdges(TaskBits part, long start, int[] words) {
        int[] span = span(start, part.bits());
        if (span == null) return;
        int count = (int) ((part.bits() + 31) >>> 5), shift = (int) (start & 31);
        words[span[0]] |= placedWord(part.words(), count, shift, 0);
        if (span[1] > span[0]) words[span[1]] |= placedWord(part.words(), count, shift, span[1] - span[0]);
    }
}
