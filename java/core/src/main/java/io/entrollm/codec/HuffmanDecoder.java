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

    /** Decodes chunk {@code c}: the unit of work one GPU thread does in the CUDA kernel. */
    static void decodeChunk(HuffmanStream stream, int c, short[] table, int tableBits, byte[] out) {
        int[] words = stream.words();
        long pos = stream.chunkBitOffsets()[c], end = stream.chunkEndBit(c);
        if (pos < 0 || end < pos || end > stream.totalBits()) {
            throw new CorruptStreamException("chunk " + c + " has bit range [" + pos + ", " + end + ") outside the stream");
        }
        int first = c * stream.chunkSymbols();
        int last = (int) Math.min(stream.symbolCount(), (long) first + stream.chunkSymbols());
        for (int i = first; i < last; i++) {
            if (pos >= end) throw new CorruptStreamException("chunk " + c + " ran out of bits at symbol " + (i - first));
            int w = (int) (pos >>> 5);
            long window = ((long) words[w] << 32) | (words[w + 1] & 0xFFFFFFFFL);
            int index = (int) ((window << (pos & 31)) >>> (64 - tableBits));
            int entry = table[index] & 0xFFFF;
            if (entry == 0) throw new CorruptStreamException("chunk " + c + " holds an invalid code at bit " + pos);
            out[i] = (byte) (entry >>> 8);
            pos += entry & 0xFF;
        }
        if (pos != end) throw new CorruptStreamException("chunk " + c + " decodes " + (pos - stream.chunkBitOffsets()[c])
                + " bits but spans " + (end - stream.chunkBitOffsets()[c]));
    }
}
