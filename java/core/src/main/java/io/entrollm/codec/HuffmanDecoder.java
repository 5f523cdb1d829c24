package io.entrollm.codec;

import java.util.stream.IntStream;

/**
 * Decodes a {@link HuffmanStream} on all cores, one task per range of chunks, with a
 * {@code maxLength}-bit lookup table. Every chunk must end exactly where the next begins; an invalid
 * code or a length mismatch is reported as corruption, never decoded into wrong symbols silently.
 */
public final class HuffmanDecoder {
    private HuffmanDecoder() {}

    /** Thrown when the coded data is inconsistent. */
    public static final class CorruptStreamException extends RuntimeException {
        public CorruptStreamException(String message) { super(message); }
    }

    public static byte[] decode(HuffmanStream stream) {
        if (stream.symbolCount() > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("too many symbols for one array");
        byte[] out = new byte[(int) stream.symbolCount()];
        decodeInto(stream, out);
        return out;
    }

    public static void decodeInto(HuffmanStream stream, byte[] out) {
        HuffmanCodebook cb = stream.codebook();
        int expectedChunks = HuffmanStream.chunkCount(stream.symbolCount(), stream.chunkSymbols());
        if (stream.chunkCount() != expectedChunks) {
            throw new CorruptStreamException("chunk index has " + stream.chunkCount() + " entries, expected " + expectedChunks);
        }
        if (stream.words().length < HuffmanStream.wordCount(stream.totalBits())) {
            throw new CorruptStreamException("bitstream of " + stream.words().length + " words is shorter than " + stream.totalBits() + " bits");
        }
        if (stream.symbolCount() == 0) return;
        int tableBits = Math.max(1, cb.maxLength());
        short[] table = cb.decodeTable(tableBits);
        IntStream.range(0, stream.chunkCount()).parallel().forEach(c -> decodeChunk(stream, c, table, tableBits, out));
    }

    /**
     * Decodes chunk {@code c}: the unit of work one GPU thread does in the CUDA kernel. The bits sit
     * left-aligned in a 64-bit buffer refilled a word at a time, so each symbol costs one table lookup
     * and one shift; the chunk's bit budget is checked per symbol (a corrupt stream stops at its chunk).
     */
    static void decodeChunk(HuffmanStream stream, int c, short[] table, int tableBits, byte[] out) {
        int[] words = stream.words();
        long start = stream.chunkBitOffsets()[c], end = stream.chunkEndBit(c);
        if (start < 0 || end < start || end > stream.totalBits()) {
            throw new CorruptStreamException("chunk " + c + " has bit range [" + start + ", " + end + ") outside the stream");
        }
        int first = c * stream.chunkSymbols();
        int last = (int) Math.min(stream.symbolCount(), (long) first + stream.chunkSymbols());
        long budget = end - start;                 // bits this chunk may still consume
        int w = (int) (start >>> 5);               // next word to load
        int skip = (int) (start & 31);
        long buf = (words[w++] & 0xFFFFFFFFL) << 32 | (words[w++] & 0xFFFFFFFFL);
        buf <<= skip;
        int avail = 64 - skip;                      // valid bits at the top of buf
        int shift = 64 - tableBits;
        for (int i = first; i < last; i++) {
            if (avail < 32) {                       // refill: append the next word below the valid bits
                long next = w < words.length ? words[w] & 0xFFFFFFFFL : 0;
                w++;
                buf |= next << (32 - avail);
                avail += 32;
            }
            int entry = table[(int) (buf >>> shift)] & 0xFFFF;
            int len = entry & 0xFF;
            if (entry == 0 || len > budget) {
                throw new CorruptStreamException("chunk " + c + (entry == 0 ? " holds an invalid code" : " ran out of bits")
                        + " at symbol " + (i - first));
            }
            out[i] = (byte) (entry >>> 8);
            buf <<= len;
            avail -= len;
            budget -= len;
        }
        if (budget != 0) throw new CorruptStreamException("chunk " + c + " decodes " + (end - start - budget) + " bits but spans " + (end - start));
    }
}
