package io.entrollm.codec;

/**
 * A Huffman-coded symbol sequence cut into independently decodable chunks.
 *
 * <p>Bit order: the stream is a sequence of 32-bit words; within a word the first bit is the most
 * significant. Codes are written most significant bit first. {@code words} holds at least {@code
 * ceil(totalBits / 32) + 1} words: the extra zero word lets a decoder always load two words (a buffer
 * reused across streams may be longer; decoders never read past a valid stream's end).
 * Chunk {@code c} holds symbols {@code [c * chunkSymbols, min((c + 1) * chunkSymbols, symbolCount))}
 * and starts at bit {@code chunkBitOffsets[c]}; chunk 0 starts at bit 0.
 */
public record HuffmanStream(HuffmanCodebook codebook, long symbolCount, int chunkSymbols, long[] chunkBitOffsets,
                            int[] words, long totalBits) {

    public int chunkCount() { return chunkBitOffsets.length; }

    /** Bit where chunk {@code c} ends (the next chunk's start, or the stream's end). */
    public long chunkEndBit(int c) { return c + 1 < chunkBitOffsets.length ? chunkBitOffsets[c + 1] : totalBits; }

    public static int chunkCount(long symbols, int chunkSymbols) {
        if (chunkSymbols < 1) throw new IllegalArgumentException("chunk_symbols is " + chunkSymbols + ", must be at least 1");
        long chunks = symbols / chunkSymbols + (symbols % chunkSymbols == 0 ? 0 : 1);
        if (chunks > Integer.MAX_VALUE) throw new IllegalArgumentException(symbols + " symbols in chunks of " + chunkSymbols + " make more than 2^31 chunks");
        return (int) chunks;
    }

    public static int wordCount(long totalBits) {
        return Math.toIntExact((totalBits + 31) / 32 + 1);
    }
}
