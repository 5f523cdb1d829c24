package io.entrollm.codec;

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
        int tasks = (chunks + CHUNKS_PER_TASK - 1) / CHUNKS_PER_TASK;
        TaskBits[] parts = new TaskBits[tasks];
        range(0, tasks, parallel).forEach(t -> parts[t] = codeTask(symbols, t, chunks, chunkSymbols, codes, Math.max(1, codebook.maxLength())));
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
        range(0, tasks, parallel).forEach(t -> place(parts[t], taskStart[t], words));
        return new HuffmanStream(codebook, symbols.length, chunkSymbols, offsets, words, total);
    }

    private static IntStream range(int from, int to, boolean parallel) {
        IntStream r = IntStream.range(from, to);
        return parallel ? r.parallel() : r;
    }

    /**
     * Codes task {@code t}'s chunks MSB first from bit 0. A 64-bit accumulator collects codes
     * right-aligned; after every two symbols (at most 32 bits with codes of at most 16) it stores its
     * top 32 complete bits at word w, and moves w on only when 32 were complete (branch-free: an early
     * store is replaced by a later one; the buffer has a spare word).
     */
    private static TaskBits codeTask(byte[] symbols, int t, int chunks, int chunkSymbols, int[] codes, int maxLength) {
        int firstChunk = t * CHUNKS_PER_TASK, lastChunk = Math.min(chunks, firstChunk + CHUNKS_PER_TASK);
        int from = firstChunk * chunkSymbols, to = (int) Math.min(symbols.length, (long) lastChunk * chunkSymbols);
        int[] out = new int[(int) (((long) (to - from) * maxLength + 31) / 32) + 2];
        long[] starts = new long[lastChunk - firstChunk];
        long acc = 0, done = 0;   // done: bits already stored in complete words
        int n = 0, w = 0, missing = 0;
        for (int c = firstChunk; c < lastChunk; c++) {
            starts[c - firstChunk] = done + n;
            int i = c * chunkSymbols, end = (int) Math.min(to, (long) i + chunkSymbols);
            for (; i + 1 < end; i += 2) {
                int a = codes[symbols[i] & 0xFF], b = codes[symbols[i + 1] & 0xFF];
                int la = a & 31, lb = b & 31;
                missing |= (la - 1) | (lb - 1);   // negative once a symbol has no code
                acc = (acc << la | (a >>> 5)) << lb | (b >>> 5);
                n += la + lb;
                int full = n >>> 5;
                n -= full << 5;
                out[w] = (int) (acc >>> n);
                w += full;
                done += full << 5;
            }
            if (i < end) {
                int a = codes[symbols[i] & 0xFF], la = a & 31;
                missing |= la - 1;
                acc = acc << la | (a >>> 5);
                n += la;
                int full = n >>> 5;
                n -= full << 5;
                out[w] = (int) (acc >>> n);
                w += full;
                done += full << 5;
            }
        }
        if (missing < 0) {
            for (int i = from; i < to; i++) {
                if ((codes[symbols[i] & 0xFF] & 31) == 0) throw new IllegalArgumentException("symbol " + (symbols[i] & 0xFF) + " has no code");
            }
        }
        if (n > 0) out[w] = (int) (acc << (32 - n));
        return new TaskBits(out, starts, done + n);
    }

    /** ORs a task's bits into the stream at bit {@code start}, shifting them right by start % 32. */
    private static void place(TaskBits part, long start, int[] words) {
        int first = (int) (start >>> 5), shift = (int) (start & 31);
        int count = (int) ((part.bits() + 31) >>> 5);
        int[] src = part.words();
        if (shift == 0) {
            for (int k = 0; k < count; k++) words[first + k] |= src[k];
            return;
        }
        for (int k = 0; k < count; k++) {
            words[first + k] |= src[k] >>> shift;
            words[first + k + 1] |= src[k] << (32 - shift);
        }
    }
}
