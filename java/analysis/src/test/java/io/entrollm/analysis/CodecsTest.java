package io.entrollm.analysis;

import io.entrollm.codec.SymbolPacking;

import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.quant.Quantizer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class CodecsTest {
    /** Packed quantized weights like the analysis feeds the codecs. */
    static byte[] packedWeights(int bits, int n, long seed) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        return SymbolPacking.pack(Quantizer.quantize("w", new long[] {1, n}, w, bits, QuantScheme.ASYM, Granularity.TENSOR).symbols(), bits);
    }

    @Test
    void everyCodecRoundTripsTheAnalysedBytes() {
        byte[][] inputs = {new byte[0], new byte[] {42}, packedWeights(8, 100_000, 1), packedWeights(4, 100_000, 2), new byte[70_000]};
        for (Codec c : Codecs.all()) {
            for (byte[] in : inputs) {
                byte[] compressed = c.compress(in);
                assertArrayEquals(in, c.decompress(compressed, in.length), c.name() + " on " + in.length + " bytes");
            }
            assertThat(c.compress(new byte[70_000]).length).as(c.name() + " compresses zeros").isLessThan(7_000);
        }
    }

    @Test
    void packingRoundTrips() {
        byte[] symbols = {1, 15, 0, 7, 9};
        assertArrayEquals(new byte[] {(byte) 0xF1, 0x70, 0x09}, SymbolPacking.pack(symbols, 4));
        assertArrayEquals(symbols, SymbolPacking.unpack(SymbolPacking.pack(symbols, 4), 4, 5));
        assertArrayEquals(symbols, SymbolPacking.unpack(SymbolPacking.pack(symbols, 8), 8, 5));
    }

    @Test
    void entropiesOfKnownDistributionsAreExact() {
        byte[] uniform16 = new byte[16 * 1000];
        for (int i = 0; i < uniform16.length; i++) uniform16[i] = (byte) (i % 16);
        assertThat(io.entrollm.codec.SymbolHistogram.of(uniform16, 16).entropyBits()).isEqualTo(4.0, org.assertj.core.data.Offset.offset(1e-12));
        byte[] alternating = new byte[1000];
        for (int i = 0; i < alternating.length; i++) alternating[i] = (byte) (i % 2);
        assertThat(io.entrollm.codec.SymbolHistogram.of(alternating, 4).entropyBits()).isEqualTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(PairEntropy.bitsPerSymbol(alternating, 2)).isEqualTo(0.0); // every pair is (0, 1)
        // pairs (0,0),(0,1),(1,0),(1,1) equally often: 2 bits per pair, 1 bit per symbol
        byte[] allPairs = {0, 0, 0, 1, 1, 0, 1, 1};
        assertThat(PairEntropy.bitsPerSymbol(allPairs, 2)).isEqualTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(io.entrollm.codec.SymbolHistogram.of(new byte[100], 256).entropyBits()).isEqualTo(0.0);
    }
}
