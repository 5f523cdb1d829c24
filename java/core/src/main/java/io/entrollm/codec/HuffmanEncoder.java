package io.entrollm.codec;

import java.util.stream.IntStream;

/**
 * Encodes symbols into a {@link HuffmanStream} on all cores: chunk bit lengths are summed in
 * parallel, prefix-summed into chunk offsets, then ranges of chunks are encoded in parallel into
 * private word buffers that are OR-ed into the stream (neighbouring ranges share at most one word,
 * and their bits never overlap).
 */
public final class HuffmanEncoder {
    public static final int DEFAULT_CHUNK_SYMBOLS = 4096;
    public static final int DEFAULT_MAX_CODE_LENGTH = 12;
    private static final int CHUNKS_PER_TASK = 64;

    private HuffmanEncoder() {}

    public static HuffmanStream encode(byte[] symbols, HuffmanCodebook codebook, int chunkSymbols) {
        if (chunkSymbols < 1) throw new IllegalArgumentException("chunk size must be positive");
        int chunks = HuffmanStream.chunkCount(symbols.length, chunkSymbols);
        long[] chunkBits = new long[chunks];
        IntStream.range(0, chunks).parallel().forEach(c -> {
            long bits = 0;
            int end = Math.min(symbols.length, (c + 1) * chunkSymbols);
            for (int i = c * chunkSymbols; i < end; i++) {
                int len = codebook.length(symbols[i] & 0xFF);
                if (len == 0) throw new IllegalArgumentException("symbol " + (symbols[i] & 0xFF) + " has no code");
                bits += len;
            }
            chunkBits[c] = bits;
        });
        long[] offsets = new long[chunks];
        long total = 0;
        for (int c = 0; c < chunks; c++) {
            offsets[c] = total;
            total += chunkBits[c];
        }
        long totalBits = total;
        int[] words = new int[HuffmanStream.wordCount(totalBits)];
        int tasks = (chunks + CHUNKS_PER_TASK - 1) / CHUNKS_PER_TASK;
        int[][] partial = new int[tasks][];
        IntStream.range(0, tasks).parallel().forEach(t -> {
            int firstChunk = t * CHUNKS_PER_TASK, lastChunk = Math.min(chunks, firstChunk + CHUNKS_PER_TASK);
            long startBit = offsets[firstChunk];
            long endBit = lastChunk < chunks ? offsets[lastChunk] : totalBits;
            int firstWord = (int) (startBit >>> 5);
            int[] local = new int[(int) ((endBit + 31) >>> 5) - firstWord + 1];
            long pos = startBit - ((long) firstWord << 5);
            int end = (int) Math.min(symbols.length, (long) lastChunk * chunkSymbols);
            for (int i = firstChunk * chunkSymbols; i < end; i++) {
                int s = symbols[i] & 0xFF;
                pos = put(local, pos, codebook.code(s), codebook.length(s));
            }
            partial[t] = local;
        });
        for (int t = 0; t < tasks; t++) {
            int firstWord = (int) (offsets[t * CHUNKS_PER_TASK] >>> 5);
            int[] local = partial[t];
            int n = Math.min(local.length, words.length - firstWord);
            for (int k = 0; k < n; k++) words[firstWord + k] |= local[k];
        }
        return new HuffmanStream(codebook, symbols.length, chunkSymbols, offsets, words, totalBits);
    }

    /** Writes the low {@code len} bits of {@code code} at bit {@code pos}, MSB first; returns the new position. */
    static long put(int[] words, long pos, int code, int len) {
        int w = (int) (pos >>> 5), used = (int) (pos & 31), free = 32 - used;
        if (len <= free) {
            words[w] |= code << (free - len);
        } else {
            int rest = len - free;
            words[w] |= code >>> rest;
            words[w + 1] |= code << (32 - rest);
        }
        return pos + len;
    }
}
