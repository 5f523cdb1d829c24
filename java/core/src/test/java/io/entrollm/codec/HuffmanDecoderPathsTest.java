package io.entrollm.codec;

import io.entrollm.codec.HuffmanCodecTest.Case;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every path of the fast decoder (eight chunks in lockstep with the 1-symbol table, four with the
 * multi-symbol table, single lanes and their tails, the checked decoder for incomplete codes, copies larger
 * than a thread keeps) against the reference decoder, and the inputs that used to read past the word array.
 */
class HuffmanDecoderPathsTest {

    @Provide
    Arbitrary<Case> cases() { return HuffmanCodecTest.anyCase(); }

    @Property(tries = 200)
    void everyPathEqualsTheReferenceDecoder(@ForAll("cases") Case c) {
        byte[] symbols = c.symbols();
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 1 << c.bits()), c.maxLength());
        HuffmanStream stream = HuffmanEncoder.encode(symbols, cb, c.chunkSymbols());
        assertEveryPathDecodes(stream, symbols, "");
        byte[] single = new byte[symbols.length];
        HuffmanDecoder.decodeSingleThread(stream, single);
        assertArrayEquals(symbols, single);
        assertArrayEquals(symbols, HuffmanDecoder.decode(stream));
        assertArrayEquals(stream.words(), HuffmanEncoder.encodeSingleThread(symbols, cb, c.chunkSymbols()).words());
        assertArrayEquals(referenceEncode(symbols, cb, stream.totalBits()), stream.words(), "the encoder's words");
    }

    /** The format's definition, one code at a time: MSB first into 32-bit words, one zero pad word. */
    static int[] referenceEncode(byte[] symbols, HuffmanCodebook cb, long totalBits) {
        int[] words = new int[HuffmanStream.wordCount(totalBits)];
        long pos = 0;
        for (byte b : symbols) {
            int s = b & 0xFF, code = cb.code(s), len = cb.length(s);
            for (int k = len - 1; k >= 0; k--, pos++) {
                if ((code >>> k & 1) != 0) words[(int) (pos >>> 5)] |= 1 << (31 - (int) (pos & 31));
            }
        }
        return words;
    }

    /** Chunk sizes that leave a short last chunk, odd sizes and chunks of 1..7 symbols (the lanes' tails). */
    @Property(tries = 100)
    void oddChunkSizesAndTails(@ForAll @IntRange(min = 1, max = 40) int chunk, @ForAll @IntRange(min = 0, max = 3000) int length,
                               @ForAll @IntRange(min = 2, max = 8) int bits, @ForAll long seed) {
        Case c = new Case("gaussian", bits, length, chunk, 12, seed);
        byte[] symbols = c.symbols();
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 1 << bits), 12);
        assertEveryPathDecodes(HuffmanEncoder.encode(symbols, cb, chunk), symbols, "");
    }

    /** Streams long enough for the encoder's pair table (two codes a lookup), odd chunk sizes included: the words equal the one-code-at-a-time reference. */
    @Property(tries = 15)
    void pairTableEncoderEqualsTheReference(@ForAll @IntRange(min = 65_536, max = 140_000) int length, @ForAll @IntRange(min = 2, max = 8) int bits,
                                            @ForAll @IntRange(min = 8, max = 16) int maxLength, @ForAll long seed) {
        Case c = new Case(seed % 3 == 0 ? "uniform" : "gaussian", bits, length, seed % 2 == 0 ? 4096 : 1001, maxLength, seed);
        byte[] symbols = c.symbols();
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 1 << bits), maxLength);
        HuffmanStream stream = HuffmanEncoder.encode(symbols, cb, c.chunkSymbols());
        assertArrayEquals(referenceEncode(symbols, cb, stream.totalBits()), stream.words());
        assertArrayEquals(stream.words(), HuffmanEncoder.encodeSingleThread(symbols, cb, c.chunkSymbols()).words());
        assertArrayEquals(symbols, HuffmanDecoder.decode(stream));
    }

    /**
     * Regression: neighbouring encoder tasks shared the word where one ends and the next begins, and ORed into
     * it from two threads, which lost bits about once in 30,000 encodes of a few tasks (a corrupt stream behind a
     * valid checksum). Thousands of small parallel encodes, each of 11 tasks, equal the single-thread encode
     * (this caught the old code in roughly one run of ten; the fix is by construction, see HuffmanEncoder).
     */
    @Test
    void parallelEncodesOfManySmallTasksEqualTheSingleThreadEncode() {
        java.util.Random r = new java.util.Random(7);
        byte[] symbols = new byte[64 * 100 * 11 + 37];
        for (int i = 0; i < symbols.length; i++) symbols[i] = (byte) Math.min(15, Math.abs((int) (r.nextGaussian() * 3)));
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 16), 12);
        int[] reference = HuffmanEncoder.encodeSingleThread(symbols, cb, 100).words();
        for (int k = 0; k < 3000; k++) assertArrayEquals(reference, HuffmanEncoder.encode(symbols, cb, 100).words(), "encode " + k);
    }

    /** A symbol without a code is refused by the two-symbol and the pair-table coder alike. */
    @Test
    void symbolsWithoutACodeAreRefused() {
        for (int length : new int[] {1000, 100_000}) {
            byte[] symbols = new byte[length];
            for (int i = 0; i < length; i++) symbols[i] = (byte) (i % 5);
            HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 16), 12);
            symbols[length - 3] = 9;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HuffmanEncoder.encode(symbols, cb, 4096));
            assertThat(e.getMessage()).isEqualTo("symbol 9 has no code");
        }
    }

    /**
     * The longest codes back to back: four 16-bit codes need all 64 bits of a window, of which only 57 are
     * sure to be loaded, so a decoder that takes four lookups from one window must not do so for codes
     * that long. Codebooks of a steep histogram limited to 13..16 bits, streams of their longest codes with a
     * 1-bit code now and then (so that windows start at every bit of a byte). Regression: the 1-symbol lockstep
     * took four lookups a window at 15 and 16 bits and reported valid files as corrupt.
     */
    @Test
    void longestCodesBackToBack() {
        java.io.ByteArrayOutputStream steep = new java.io.ByteArrayOutputStream();
        for (int s = 0; s < 256; s++) for (int k = 0; k < (s < 18 ? 1 << (18 - s) : 1); k++) steep.write(s);
        SymbolHistogram histogram = SymbolHistogram.of(steep.toByteArray(), 256);
        for (int maxLength = 13; maxLength <= 16; maxLength++) {
            HuffmanCodebook cb = HuffmanCodebook.build(histogram, maxLength);
            assertThat(cb.maxLength()).isEqualTo(maxLength);
            int longest = maxLength;
            int[] rare = java.util.stream.IntStream.range(0, 256).filter(s -> cb.length(s) == longest).toArray();
            byte[] symbols = new byte[9 * 4096 + 17];
            java.util.Random r = new java.util.Random(maxLength);
            for (int i = 0; i < symbols.length; i++) symbols[i] = (byte) (r.nextInt(10) == 0 ? 0 : rare[r.nextInt(rare.length)]);
            assertThat(cb.length(0)).isEqualTo(1);
            assertEveryPathDecodes(HuffmanEncoder.encode(symbols, cb, 4096), symbols, "codes of " + maxLength + " bits, ");
        }
    }

    /** The reference decoder and every fast path ({@link DecoderPath#all}) decode {@code stream} back to {@code symbols}. */
    static void assertEveryPathDecodes(HuffmanStream stream, byte[] symbols, String what) {
        byte[] reference = new byte[symbols.length];
        HuffmanDecoder.decodeReferenceSingleThread(stream, reference);
        assertArrayEquals(symbols, reference, what + "reference decoder");
        for (DecoderPath path : DecoderPath.all()) {
            byte[] out = new byte[symbols.length];
            path.decode(stream, out);
            assertArrayEquals(symbols, out, what + path);
        }
    }

    /** Chunks so large that a group's big-endian copy is more than a thread keeps between groups (1 MiB). */
    @Test
    void largeChunksDecodeThroughAnUnkeptCopy() {
        Case c = new Case("uniform", 8, 9 * 150_000 + 17, 150_000, 12, 42);
        byte[] symbols = c.symbols();
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 256), 12);
        HuffmanStream stream = HuffmanEncoder.encode(symbols, cb, 150_000);
        assertThat(stream.chunkBitOffsets()[8] / 8).as("bytes of the first group of eight chunks").isGreaterThan(1 << 20);
        assertEveryPathDecodes(stream, symbols, "");
        assertArrayEquals(symbols, HuffmanDecoder.decode(stream));
    }

    /** An invalid code (only a 1-symbol codebook leaves any, and it takes the checked decoder) is found in the chunk that holds it. */
    @Test
    void invalidCodeInAnyChunkIsNamed() {
        byte[] same = new byte[16 * 64];
        Arrays.fill(same, (byte) 3);
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(same, 16), 12);  // one code: "0"
        HuffmanStream s = HuffmanEncoder.encode(same, cb, 64);
        for (int chunk = 4; chunk < 8; chunk++) {
            int[] words = s.words().clone();
            long bit = s.chunkBitOffsets()[chunk] + 7;          // a 1 where only 0 is a code
            words[(int) (bit >>> 5)] |= 1 << (31 - (int) (bit & 31));
            HuffmanStream bad = new HuffmanStream(cb, s.symbolCount(), s.chunkSymbols(), s.chunkBitOffsets(), words, s.totalBits());
            for (DecoderPath path : DecoderPath.all()) {
                HuffmanDecoder.CorruptStreamException e = assertThrows(HuffmanDecoder.CorruptStreamException.class,
                        () -> path.decode(bad, new byte[same.length]));
                assertThat(e.getMessage()).isEqualTo("chunk " + chunk + " holds an invalid code at symbol 7");
            }
        }
    }

    /** Flipped bits inside a complete code's stream: the chunk no longer ends where the next begins, or a symbol changes (then the CRC, not the decoder, is the guard). */
    @Property(tries = 100)
    void flippedBitsNeverEscapeAsOtherExceptions(@ForAll @IntRange(min = 0, max = 1_000_000) int seed) {
        Case c = new Case("gaussian", seed % 2 == 0 ? 8 : 4, 30_000, 512, 12, seed);
        byte[] symbols = c.symbols();
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 256), 12);
        HuffmanStream s = HuffmanEncoder.encode(symbols, cb, 512);
        int[] words = s.words().clone();
        java.util.Random r = new java.util.Random(seed);
        long bit = (long) (r.nextDouble() * s.totalBits());
        words[(int) (bit >>> 5)] ^= 1 << (31 - (int) (bit & 31));
        HuffmanStream flipped = new HuffmanStream(cb, s.symbolCount(), s.chunkSymbols(), s.chunkBitOffsets(), words, s.totalBits());
        for (DecoderPath path : DecoderPath.all()) {
            byte[] fast = new byte[symbols.length], reference = new byte[symbols.length];
            boolean fastFailed = false, referenceFailed = false;
            try { path.decode(flipped, fast); } catch (HuffmanDecoder.CorruptStreamException e) { fastFailed = true; }
            try { HuffmanDecoder.decodeReferenceSingleThread(flipped, reference); } catch (HuffmanDecoder.CorruptStreamException e) { referenceFailed = true; }
            assertThat(fastFailed).as("fast and reference decoders agree on whether the stream is corrupt").isEqualTo(referenceFailed);
            if (!fastFailed) assertArrayEquals(reference, fast);
        }
    }

    /**
     * Regression: a chunk starting at a total_bits that is a multiple of 32, and a stream of 0 bits,
     * made the decoder read the word after the pad word (ArrayIndexOutOfBounds); both are now reported
     * as corrupt streams.
     */
    @Test
    void chunksAtTheEndOfTheStreamDoNotReadPastTheWords() {
        byte[] symbols = new byte[64];
        for (int i = 0; i < symbols.length; i++) symbols[i] = (byte) (i % 4);   // 2 bits each: 128 bits
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 4), 12);
        HuffmanStream s = HuffmanEncoder.encode(symbols, cb, 32);
        assertThat(s.totalBits() % 32).isZero();
        long[] atEnd = {0, s.totalBits()};                                       // chunk 1 starts at the last bit
        HuffmanStream crafted = new HuffmanStream(cb, s.symbolCount(), s.chunkSymbols(), atEnd, s.words(), s.totalBits());
        HuffmanStream empty = new HuffmanStream(cb, s.symbolCount(), s.chunkSymbols(), new long[] {0, 0}, new int[1], 0);
        for (HuffmanStream bad : new HuffmanStream[] {crafted, empty}) {
            assertThrows(HuffmanDecoder.CorruptStreamException.class, () -> HuffmanDecoder.decode(bad));
            assertThrows(HuffmanDecoder.CorruptStreamException.class, () -> HuffmanDecoder.decodeReferenceSingleThread(bad, new byte[64]));
            for (int c = 0; c < 2; c++) {
                int chunk = c;
                assertThrows(HuffmanDecoder.CorruptStreamException.class, () -> HuffmanDecoder.decodeChunkChecked(bad, chunk,
                        cb.decodeTable(cb.maxLength()), cb.maxLength(), new byte[64]));
            }
        }
    }
}
