package io.entrollm.model;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.codec.SymbolHistogram;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.format.FormatException;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.tensor.TensorReader;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A coded tensor decoded a piece of chunks at a time ({@link StoredTensor.Coded#decodeChunks}, how the CPU
 * engine loads large tensors through small buffers) gives the whole decode's symbols bit for bit, from
 * pieces starting at any bit, and reports a corrupt chunk by the same number as the whole decode.
 */
class CodedPiecesTest {
    @TempDir static Path dir;
    static Path file;

    @BeforeAll
    static void compress() throws IOException {
        file = dir.resolve("u3-chunks-100.entro");
        // 100-symbol chunks of 3-bit symbols: chunks start at every bit position of a word
        CompressOptions o = new CompressOptions(3, QuantScheme.ASYM, Granularity.CHANNEL, 12, 100, false, CompressOptions.Encoding.HUFFMAN);
        try (ModelSource src = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(src, file, o, null);
        }
    }

    static List<StoredTensor.Coded> coded(ModelSource src) {
        List<StoredTensor.Coded> out = new ArrayList<>();
        for (String name : src.tensorNames()) if (src.stored(name) instanceof StoredTensor.Coded c) out.add(c);
        return out;
    }

    /** Chunks [first, end) of c decoded as one piece, as a copy of their symbols. */
    static byte[] piece(StoredTensor.Coded c, int first, int end) {
        long from = (long) first * c.chunkSymbols(), to = Math.min(c.elementCount(), (long) end * c.chunkSymbols());
        byte[] out = new byte[(int) (to - from)];
        c.decodeChunks(first, end, out, new int[c.chunkWords(first, end) + 3]);
        return out;
    }

    @Test
    void piecesOfEverySizeEqualTheWholeDecode() throws IOException {
        try (ModelSource src = ModelSources.open(file)) {
            List<StoredTensor.Coded> tensors = coded(src);
            assertThat(tensors).isNotEmpty();
            for (StoredTensor.Coded c : tensors) {
                byte[] whole = c.symbols();
                for (int perPiece : new int[] {1, 2, 3, 7, c.chunks()}) {
                    byte[] joined = new byte[whole.length];
                    for (int first = 0; first < c.chunks(); first += perPiece) {
                        int end = Math.min(c.chunks(), first + perPiece);
                        byte[] p = piece(c, first, end);
                        System.arraycopy(p, 0, joined, first * c.chunkSymbols(), p.length);
                    }
                    assertThat(joined).as("%s in pieces of %d chunks", c.name(), perPiece).isEqualTo(whole);
                }
            }
        }
    }

    @Test
    void aCorruptChunkIsReportedByItsNumberInTheTensor() throws IOException {
        try (ModelSource src = ModelSources.open(file)) {
            StoredTensor.Coded c = coded(src).getFirst();
            int bad = c.chunks() / 2 + 1;
            // clear the stream from the middle of chunk `bad` on: that chunk no longer spans its bits
            MemorySegment bits = MemorySegment.ofArray(c.bitstream().toArray(TensorReader.I32));
            long from = (c.chunkStartBit(bad) + c.chunkStartBit(bad + 1)) / 2 / 32;
            long to = c.chunkStartBit(bad + 1) / 32;
            for (long w = from; w < to; w++) bits.setAtIndex(TensorReader.I32, w, 0x5A5A5A5A);
            StoredTensor.Coded broken = new StoredTensor.Coded(c.file(), c.name(), c.shape(), c.sourceDtype(), c.bits(), c.scheme(), c.granularity(),
                    c.groupSize(), c.sign(), c.params(), c.paramsDtype(), c.codebook(), c.chunkSymbols(), c.totalBits(), c.chunkIndex(), bits);
            String whole = messageOf(() -> broken.symbols());
            assertThat(whole).contains(c.name()).contains("chunk " + bad + " ");
            assertThat(messageOf(() -> piece(broken, bad - 1, bad + 2))).isEqualTo(whole);
            assertThat(messageOf(() -> piece(broken, bad, bad + 1))).isEqualTo(whole);
            // pieces without the damaged chunk decode as before
            assertThat(piece(broken, 0, bad)).isEqualTo(piece(c, 0, bad));
        }
    }

    static String messageOf(Runnable r) {
        return assertThatThrownBy(r::run).isInstanceOf(FormatException.class).actual().getMessage();
    }

    /**
     * Symbols must fit the tensor's bits: a codebook with a code for a wider symbol is scanned, and the symbol
     * is named when it occurs; such a code that never occurs is harmless. Codebooks without one skip the scan.
     */
    @Test
    void decodedSymbolsWiderThanTheBitsAreRefused() {
        byte[] symbols = new byte[5000];
        for (int i = 0; i < symbols.length; i++) symbols[i] = (byte) (i % 7);
        symbols[4321] = 9;                                                    // 4 bits, in a 3-bit tensor
        HuffmanCodebook wide = HuffmanCodebook.build(SymbolHistogram.of(symbols, 16), 12);
        HuffmanStream stream = HuffmanEncoder.encode(symbols, wide, 100);
        Path where = Path.of("crafted.entro");
        assertThatThrownBy(() -> StoredTensor.Coded.decodeChecked(stream, new byte[symbols.length], 3, where, "w"))
                .isInstanceOf(FormatException.class).hasMessageContaining("tensor 'w': decoded symbol 9 exceeds 3 bits");
        byte[] fitting = symbols.clone();
        fitting[4321] = 1;                                                    // the code for 9 exists but never occurs
        byte[] out = new byte[fitting.length];
        StoredTensor.Coded.decodeChecked(HuffmanEncoder.encode(fitting, wide, 100), out, 3, where, "w");
        assertThat(out).isEqualTo(fitting);
        StoredTensor.Coded.decodeChecked(stream, out, 4, where, "w");   // 4 bits: 9 fits
    }
}
