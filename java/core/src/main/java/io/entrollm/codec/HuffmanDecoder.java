package io.entrollm.codec;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Decodes a {@link HuffmanStream} on all cores. An invalid code or a chunk that does not end exactly
 * where the next begins is reported as corruption, never decoded into wrong symbols silently.
 *
 * <p>How it is fast (the techniques of Huff0's {@code HUF_decompress4X}, on our unchanged format):
 * one task decodes a group of {@value #GROUP} chunks in lockstep ({@link DecodeLanes}), so the out-of-order core overlaps
 * independent lookup-shift-lookup chains; the group's words are first copied as big-endian bytes, so
 * that one unaligned 8-byte load is a 64-bit window that serves four lookups (no refill branch);
 * where codes are short a multi-symbol table decodes up to six symbols per lookup with one store
 * ({@link DecodeTables}); otherwise four lookups' symbols leave in one 4-byte store. Validation moves
 * to chunk ends: a complete prefix code has no invalid codes, so each chunk need only consume exactly
 * its bits (a corrupt chunk cannot). Reads past the stream come from the copy's zero padding. The
 * 1-symbol codebook, the one incomplete code, and groups of chunks whose words would make a copy of
 * more than 32 MiB take {@link #decodeChunkChecked}, the reference decoder, which checks every symbol.
 * Where {@link NativeHuffman} has loaded its C library, the lockstep loops run in C on the same copy and
 * tables (the same symbols; the chunk-end checks stay here), else in Java ({@link DecodeLanes}).
 */
public final class HuffmanDecoder {
    /** Chunks one task decodes: eight in lockstep with the 1-symbol table, two sets of four with the multi-symbol table. */
    static final int GROUP = 8;
    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    private HuffmanDecoder() {}

    /** Thrown when the coded data is inconsistent. */
    public static final class CorruptStreamException extends RuntimeException {
        private final int chunk;
        private final String detail;

        public CorruptStreamException(String message) { this(-1, message); }

        /** A fault of chunk {@code chunk}; the message reads "chunk N detail". */
        public CorruptStreamException(int chunk, String detail) {
            super(chunk < 0 ? detail : "chunk " + chunk + " " + detail);
            this.chunk = chunk;
            this.detail = detail;
        }

        /** The same fault with its chunk counted from {@code firstChunk}: a stream cut from a longer one reports the longer one's numbers. */
        public CorruptStreamException renumbered(int firstChunk) {
            return chunk < 0 ? this : new CorruptStreamException(chunk + firstChunk, detail);
        }
    }

    /** Decodes on all cores. */
    public static byte[] decode(HuffmanStream stream) {
        if (stream.symbolCount() > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("too many symbols for one array");
        byte[] out = new byte[(int) stream.symbolCount()];
        decodeInto(stream, out);
        return out;
    }

    /** Decodes on all cores into {@code out} (at least {@code symbolCount} bytes). */
    public static void decodeInto(HuffmanStream stream, byte[] out) {
        DecodeTables tables = prepare(stream, out);
        if (tables == null) return;
        boolean nativeLanes = NativeHuffman.available();
        IntStream groups = IntStream.range(0, groups(stream));
        // a parallel decode costs a fixed wake-up of the pool's threads (~250 us on a 2-vCPU VM): below a few groups
        // of work one thread is sooner (262,144 symbols: 87 us alone, 305 us in parallel there)
        (groups(stream) >= MIN_PARALLEL_GROUPS ? groups.parallel() : groups).forEach(g -> decodeGroup(stream, tables, g, out, nativeLanes));
    }

    /** Decodes on the calling thread only (for single-thread benchmarks). */
    public static void decodeSingleThread(HuffmanStream stream, byte[] out) {
        decodeSingleThread(stream, out, NativeHuffman.available() ? InnerLoops.NATIVE : InnerLoops.JAVA);
    }

    /** Where the fast decoder's inner loops run: {@link DecodeLanes} in Java, or {@link NativeHuffman}'s C loops. */
    public enum InnerLoops { JAVA, NATIVE }

    /** Decodes on the calling thread with the inner loops in Java or in C (benchmarks compare them); NATIVE needs {@link NativeHuffman#available()}. */
    public static void decodeSingleThread(HuffmanStream stream, byte[] out, InnerLoops loops) {
        boolean nativeLanes = requireLoops(loops == InnerLoops.NATIVE);
        DecodeTables tables = prepare(stream, out);
        if (tables != null) decodeGroupsHere(stream, tables, out, nativeLanes);
    }

    /**
     * One thread, with the multi-symbol table forced on or off and the inner loops in C or in Java
     * ({@link NativeHuffman}; C only where the library is loaded): tests reach every decoder path.
     */
    static void decodeSingleThread(HuffmanStream stream, byte[] out, boolean multi, boolean nativeLanes) {
        requireLoops(nativeLanes);
        if (prepare(stream, out) != null) decodeGroupsHere(stream, DecodeTables.of(stream.codebook(), multi), out, nativeLanes);
    }

    /** {@code nativeLanes}, once the C loops are known to be loaded where they are asked for. */
    private static boolean requireLoops(boolean nativeLanes) {
        if (nativeLanes && !NativeHuffman.available()) throw new IllegalStateException(NativeHuffman.status());
        return nativeLanes;
    }

    /** Every group on the calling thread. */
    private static void decodeGroupsHere(HuffmanStream stream, DecodeTables tables, byte[] out, boolean nativeLanes) {
        for (int g = 0; g < groups(stream); g++) decodeGroup(stream, tables, g, out, nativeLanes);
    }

    /** The reference decoder on the calling thread: chunk by chunk, every symbol checked (the baseline of benchmarks and tests). */
    public static void decodeReferenceSingleThread(HuffmanStream stream, byte[] out) {
        if (prepare(stream, out) == null) return;
        int tableBits = Math.max(1, stream.codebook().maxLength());
        short[] table = stream.codebook().decodeTable(tableBits);
        for (int c = 0; c < stream.chunkCount(); c++) decodeChunkChecked(stream, c, table, tableBits, out);
    }

    /** Streams of fewer groups (of {@value #GROUP} chunks) decode on the calling thread: 16 groups are 524,288 symbols at 4,096 a chunk. */
    static final int MIN_PARALLEL_GROUPS = 16;

    private static int groups(HuffmanStream s) { return (s.chunkCount() + GROUP - 1) / GROUP; }

    /** The chunk index and stream size are checked once, before any symbol is decoded; null: nothing to decode. */
    private static DecodeTables prepare(HuffmanStream stream, byte[] out) {
        int expectedChunks = HuffmanStream.chunkCount(stream.symbolCount(), stream.chunkSymbols());
        if (stream.chunkCount() != expectedChunks) {
            throw new CorruptStreamException("chunk index has " + stream.chunkCount() + " entries, expected " + expectedChunks);
        }
        if (stream.words().length < HuffmanStream.wordCount(stream.totalBits())) {
            throw new CorruptStreamException("bitstream of " + stream.words().length + " words is shorter than " + stream.totalBits() + " bits");
        }
        if (out.length < stream.symbolCount()) throw new IllegalArgumentException("output of " + out.length + " bytes for " + stream.symbolCount() + " symbols");
        long[] offsets = stream.chunkBitOffsets();
        for (int c = 0; c < offsets.length; c++) {
            long start = offsets[c], end = stream.chunkEndBit(c);
            if (start < 0 || end < start || end > stream.totalBits() || (c == 0 && start != 0)) {
                throw new CorruptStreamException(c, "has bit range [" + start + ", " + end + ") outside the stream");
            }
        }
        if (stream.symbolCount() == 0) return null;
        return DecodeTables.of(stream.codebook(), stream.totalBits(), stream.symbolCount());
    }

    /**
     * The chunks of one group: their words copied as big-endian bytes (so that one 8-byte load is a
     * 64-bit window), then the lockstep decoders over full chunks and single lanes for the rest; the
     * checked decoder where the code is incomplete or the copy would be too large.
     */
    private static void decodeGroup(HuffmanStream s, DecodeTables t, int group, byte[] out, boolean nativeLanes) {
        int first = group * GROUP, last = Math.min(s.chunkCount(), first + GROUP), n = s.chunkSymbols();
        long[] offsets = s.chunkBitOffsets();
        int fromWord = (int) (offsets[first] >>> 5), toWord = (int) (s.chunkEndBit(last - 1) >>> 5) + 2;
        // a lane starts at most at the group's last bit and reads at most tableBits a symbol, valid or corrupt
        long copyBytes = 4L * (toWord - fromWord) + ((long) n * t.tableBits() + 7) / 8 + 16;
        if (!t.complete() || copyBytes > MAX_COPY_BYTES) {
            for (int c = first; c < last; c++) decodeChunkChecked(s, c, t.reference(), t.tableBits(), out);
            return;
        }
        byte[] bytes = bigEndianBytes(s.words(), fromWord, toWord, (int) copyBytes);
        long base = 32L * fromWord;
        if (nativeLanes) {
            decodeGroupNatively(s, t, first, last, bytes, base, out);
            return;
        }
        long[] p = new long[GROUP];
        int[] o = new int[GROUP];
        int c = first;
        if (t.multi() != null) {
            for (; c + 4 <= last && full(s, c, 4); c += 4) {
                for (int l = 0; l < 4; l++) {
                    p[l] = offsets[c + l] - base;
                    o[l] = (c + l) * n;
                }
                DecodeLanes.fourMulti(bytes, t.multi(), 64 - t.tableBits(), p, o, n, out);
                DecodeLanes.finishFourMulti(bytes, t, p, o, (c + 1) * n, n, out);
                for (int l = 0; l < 4; l++) finish(s, c + l, base + DecodeLanes.lane(bytes, t, p[l], o[l], (c + l + 1) * n - o[l], out));
            }
        } else if (c + GROUP <= last && full(s, c, GROUP) && t.tableBits() <= DecodeTables.LOCKSTEP_MAX_TABLE_BITS) {
            for (int l = 0; l < GROUP; l++) p[l] = offsets[c + l] - base;
            DecodeLanes.eightSingles(bytes, t.single(), 64 - t.tableBits(), p, c * n, n, out);
            int done = n & ~3;
            for (int l = 0; l < GROUP; l++) finish(s, c + l, base + DecodeLanes.lane(bytes, t, p[l], (c + l) * n + done, n - done, out));
            c += GROUP;
        }
        for (; c < last; c++) finish(s, c, base + DecodeLanes.lane(bytes, t, offsets[c] - base, c * n, chunkSymbols(s, c), out));
    }

    /** The group's chunks by the C loops ({@link NativeHuffman}), then each chunk's end bit checked. */
    private static void decodeGroupNatively(HuffmanStream s, DecodeTables t, int first, int last, byte[] bytes, long base, byte[] out) {
        int lanes = last - first, n = s.chunkSymbols();
        long[] p = new long[lanes];
        int[] at = new int[lanes], count = new int[lanes];
        for (int l = 0; l < lanes; l++) {
            p[l] = s.chunkBitOffsets()[first + l] - base;
            at[l] = (first + l) * n;
            count[l] = chunkSymbols(s, first + l);
        }
        NativeHuffman.decodeLanes(bytes, t, lanes, p, at, count, out);
        for (int l = 0; l < lanes; l++) finish(s, first + l, base + p[l]);
    }

    /** Whether chunks {@code [c, c + lanes)} all hold {@code chunkSymbols} symbols (only the last chunk may hold fewer). */
    private static boolean full(HuffmanStream s, int c, int lanes) {
        return chunkSymbols(s, c + lanes - 1) == s.chunkSymbols();
    }

    private static int chunkSymbols(HuffmanStream s, int c) {
        long first = (long) c * s.chunkSymbols();
        return (int) Math.min(s.chunkSymbols(), s.symbolCount() - first);
    }

    private static void finish(HuffmanStream s, int c, long endBit) {
        long start = s.chunkBitOffsets()[c], end = s.chunkEndBit(c);
        if (endBit != end) throw new CorruptStreamException(c, "decodes " + (endBit - start) + " bits but spans " + (end - start));
    }

    /** Groups whose copy would be larger than this (32 MiB; 4096-symbol chunks make under 64 KiB) take the checked decoder. */
    private static final long MAX_COPY_BYTES = 1L << 25;
    /** Per-thread copy buffers, kept up to this size (a group of 4096-symbol chunks needs under 64 KiB). */
    private static final int KEPT_BUFFER_BYTES = 1 << 20;
    private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[0]);

    /**
     * Words {@code [from, to)} as big-endian bytes, zeros after them up to {@code size} bytes, in a
     * per-thread buffer: bit {@code b} of the copy is bit {@code 32 * from + b} of the stream. The
     * zeros are where a corrupt chunk's reads run to (it then ends at the wrong bit); words past the
     * array read as zeros, as in the checked decoder.
     */
    private static byte[] bigEndianBytes(int[] words, int from, int to, int size) {
        byte[] buffer = BUFFERS.get();
        if (buffer.length < size) {
            buffer = new byte[Math.max(size, Math.min(KEPT_BUFFER_BYTES, 2 * buffer.length))];
            if (buffer.length <= KEPT_BUFFER_BYTES) BUFFERS.set(buffer);
        }
        int count = Math.max(0, Math.min(to, words.length) - from);
        for (int i = 0; i < count; i++) INT_BE.set(buffer, 4 * i, words[from + i]);   // C2 vectorizes this loop (~40 GB/s)
        Arrays.fill(buffer, 4 * count, size, (byte) 0);
        return buffer;
    }

    /**
     * The reference decoder for chunk {@code c}, checking every symbol (the unit of work one GPU thread
     * does in the CUDA kernel): bits left-aligned in a 64-bit buffer refilled a word at a time; the
     * chunk's bit budget is checked per symbol and words past the array read as zero.
     */
    static void decodeChunkChecked(HuffmanStream stream, int c, short[] table, int tableBits, byte[] out) {
        int[] words = stream.words();
        long start = stream.chunkBitOffsets()[c], end = stream.chunkEndBit(c);
        if (start < 0 || end < start || end > stream.totalBits()) {
            throw new CorruptStreamException(c, "has bit range [" + start + ", " + end + ") outside the stream");
        }
        int first = c * stream.chunkSymbols();
        int last = (int) Math.min(stream.symbolCount(), (long) first + stream.chunkSymbols());
        long budget = end - start;                 // bits this chunk may still consume
        int w = (int) (start >>> 5);               // next word to load
        int skip = (int) (start & 31);
        long buf = (word(words, w) << 32 | word(words, w + 1)) << skip;
        w += 2;
        int avail = 64 - skip;                      // valid bits at the top of buf
        int shift = 64 - tableBits;
        for (int i = first; i < last; i++) {
            if (avail < 32) {                       // refill: append the next word below the valid bits
                buf |= word(words, w++) << (32 - avail);
                avail += 32;
            }
            int entry = table[(int) (buf >>> shift)] & 0xFFFF;
            int len = entry & 0xFF;
            if (entry == 0 || len > budget) {
                throw new CorruptStreamException(c, (entry == 0 ? "holds an invalid code" : "ran out of bits")
                        + " at symbol " + (i - first));
            }
            out[i] = (byte) (entry >>> 8);
            buf <<= len;
            avail -= len;
            budget -= len;
        }
        if (budget != 0) throw new CorruptStreamException(c, "decodes " + (end - start - budget) + " bits but spans " + (end - start));
    }

    /** Word {@code w} as unsigned, or 0 past the end of the array (a chunk may start at the stream's last bit). */
    private static long word(int[] words, int w) { return w < words.length ? words[w] & 0xFFFFFFFFL : 0; }
}
