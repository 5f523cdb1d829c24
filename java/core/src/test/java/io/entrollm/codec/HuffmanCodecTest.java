package io.entrollm.codec;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.PriorityQueue;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HuffmanCodecTest {

    /** A symbol sequence with a named distribution, bits per symbol, chunk size and code length limit. */
    record Case(String distribution, int bits, int length, int chunkSymbols, int maxLength, long seed) {
        byte[] symbols() {
            Random r = new Random(seed);
            byte[] s = new byte[length];
            int alphabet = 1 << bits;
            for (int i = 0; i < length; i++) {
                int v = switch (distribution) {
                    case "uniform" -> r.nextInt(alphabet);
                    case "constant" -> alphabet / 2;
                    case "two" -> r.nextInt(100) == 0 ? 1 : 0;
                    case "geometric" -> Math.min(alphabet - 1, (int) (-Math.log(1 - r.nextDouble()) * 0.7));
                    default -> { // "gaussian": like quantized weights
                        double g = r.nextGaussian() * alphabet / 12 + alphabet / 2.0;
                        yield (int) Math.max(0, Math.min(alphabet - 1, Math.round(g)));
                    }
                };
                s[i] = (byte) v;
            }
            return s;
        }
    }

    @Provide
    Arbitrary<Case> cases() { return anyCase(); }

    /** Symbol sequences of every distribution, width, length, chunk size and code length limit (shared with HuffmanDecoderPathsTest). */
    static Arbitrary<Case> anyCase() {
        return Combinators.combine(
                Arbitraries.of("uniform", "constant", "two", "geometric", "gaussian"),
                Arbitraries.integers().between(2, 8),
                Arbitraries.integers().between(0, 50_000),
                Arbitraries.of(32, 33, 100, 1024, 4096),
                Arbitraries.integers().between(8, 16),
                Arbitraries.longs()).as(Case::new);
    }

    @Property(tries = 150)
    void decodeOfEncodeIsBitIdentical(@ForAll("cases") Case c) {
        byte[] symbols = c.symbols();
        SymbolHistogram h = SymbolHistogram.of(symbols, 1 << c.bits());
        HuffmanCodebook cb = HuffmanCodebook.build(h, c.maxLength());
        HuffmanStream stream = HuffmanEncoder.encode(symbols, cb, c.chunkSymbols());
        assertArrayEquals(symbols, HuffmanDecoder.decode(stream));
        assertEquals(cb.codedBits(h), stream.totalBits());
        assertThat(cb.maxLength()).isLessThanOrEqualTo(c.maxLength());
        // a complete prefix code (or a single 1-bit code) that a decoder can rebuild from the lengths alone
        HuffmanCodebook rebuilt = HuffmanCodebook.fromLengths(cb.lengths());
        for (int s = 0; s < h.alphabetSize(); s++) assertEquals(cb.code(s), rebuilt.code(s));
    }

    @Property(tries = 100)
    void codedSizeLiesBetweenEntropyAndEntropyPlusOne(@ForAll("cases") Case c) {
        byte[] symbols = c.symbols();
        if (symbols.length == 0) return;
        SymbolHistogram h = SymbolHistogram.of(symbols, 1 << c.bits());
        HuffmanCodebook cb = HuffmanCodebook.build(h, 16); // never binding for <= 256 symbols with these counts
        double bitsPerSymbol = (double) cb.codedBits(h) / symbols.length;
        double entropy = h.entropyBits();
        if (h.distinctSymbols() > 1) assertThat(bitsPerSymbol).isGreaterThanOrEqualTo(entropy - 1e-9);
        assertThat(bitsPerSymbol).isLessThanOrEqualTo(entropy + 1 + 1e-9);
    }

    /** Without a binding limit, package-merge must match plain Huffman's optimal total. */
    @Property(tries = 100)
    void unconstrainedLengthsAreOptimal(@ForAll("cases") Case c) {
        byte[] symbols = c.symbols();
        SymbolHistogram h = SymbolHistogram.of(symbols, 1 << c.bits());
        if (h.distinctSymbols() < 2) return;
        assertEquals(huffmanTotalBits(h), HuffmanCodebook.build(h, 16).codedBits(h));
    }

    private static long huffmanTotalBits(SymbolHistogram h) {
        PriorityQueue<Long> q = new PriorityQueue<>();
        for (long c : h.counts()) if (c > 0) q.add(c);
        long total = 0;
        while (q.size() > 1) {
            long a = q.poll(), b = q.poll();
            total += a + b;
            q.add(a + b);
        }
        return total;
    }

    @Test
    void lengthLimitIsEnforcedOnSkewedDistributions() {
        long[] counts = new long[256];
        long f = 1;
        for (int i = 0; i < 40 && i < 256; i++) { counts[i] = f; f = Math.min(f * 2, 1L << 50); }
        SymbolHistogram h = new SymbolHistogram(counts);
        for (int limit = 6; limit <= 16; limit++) {
            HuffmanCodebook cb = HuffmanCodebook.build(h, limit);
            assertThat(cb.maxLength()).isLessThanOrEqualTo(limit);
            HuffmanCodebook.fromLengths(cb.lengths()); // still complete
        }
        assertThrows(IllegalArgumentException.class, () -> HuffmanCodebook.build(h, 5), "40 symbols need at least 6 bits");
    }

    @Test
    void emptyAndSingleSymbolStreams() {
        byte[] none = new byte[0];
        HuffmanStream empty = HuffmanEncoder.encode(none, HuffmanCodebook.build(SymbolHistogram.of(none, 16), 12), 64);
        assertEquals(0, empty.chunkCount());
        assertEquals(0, HuffmanDecoder.decode(empty).length);

        byte[] same = new byte[1000];
        java.util.Arrays.fill(same, (byte) 7);
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(same, 16), 12);
        assertEquals(1, cb.length(7));
        assertArrayEquals(same, HuffmanDecoder.decode(HuffmanEncoder.encode(same, cb, 64)));
    }

    /** A chunk boundary moved by a few bits is reported by every decoder path (the lane ends where the next chunk does not begin). */
    @Property(tries = 60)
    void corruptedStreamsAreDetectedNotMisdecoded(@ForAll @IntRange(min = 0, max = 1_000_000) int seed) {
        Case c = new Case("gaussian", 4, 20_000, 256, 12, seed);
        byte[] symbols = c.symbols();
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 16), 12);
        HuffmanStream s = HuffmanEncoder.encode(symbols, cb, 256);
        long[] offsets = s.chunkBitOffsets().clone();
        int chunk = 1 + seed % (offsets.length - 1);
        offsets[chunk] += 1 + seed % 5; // a chunk boundary moved
        HuffmanStream bad = new HuffmanStream(cb, s.symbolCount(), s.chunkSymbols(), offsets, s.words(), s.totalBits());
        assertThrows(HuffmanDecoder.CorruptStreamException.class, () -> HuffmanDecoder.decode(bad));
        assertThrows(HuffmanDecoder.CorruptStreamException.class, () -> HuffmanDecoder.decodeReferenceSingleThread(bad, new byte[symbols.length]));
        for (DecoderPath path : DecoderPath.all()) {
            assertThrows(HuffmanDecoder.CorruptStreamException.class, () -> path.decode(bad, new byte[symbols.length]));
        }
    }
}
