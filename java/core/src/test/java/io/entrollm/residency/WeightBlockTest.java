package io.entrollm.residency;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.container.EntroEntry;
import io.entrollm.container.EntroFile;
import io.entrollm.container.EntroModel;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.model.HuggingFaceView;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer blocks: aligned, non-overlapping pieces holding exactly the stored bytes, and the footprint built on them. */
class WeightBlockTest {
    @TempDir static Path tmp;
    static Path huffman, packed;

    @BeforeAll
    static void compress() throws IOException {
        huffman = tmp.resolve("u4.entro");
        packed = tmp.resolve("u4-packed.entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, huffman, CompressOptions.defaults(4, QuantScheme.MIXED, Granularity.TENSOR), null);
            EntroCompressor.compress(s, packed, CompressOptions.defaults(4, QuantScheme.MIXED, Granularity.TENSOR)
                    .withEncoding(CompressOptions.Encoding.PACKED), null);
        }
    }

    static Path model(String which) {
        return switch (which) {
            case "huffman" -> huffman;
            case "packed" -> packed;
            default -> TestModels.sotuTiny();
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"bf16", "huffman", "packed"})
    void piecesAreAlignedDisjointAndHoldTheStoredBytes(String which) throws IOException {
        try (ModelSource src = ModelSources.openHuggingFace(model(which)); Arena arena = Arena.ofConfined();
             EntroFile entro = which.equals("bf16") ? null : EntroFile.open(model(which))) {
            LlamaLayout layout = LlamaLayout.of(src);
            List<WeightBlock> blocks = WeightBlock.layers(src, layout);
            assertEquals(layout.layers.length, blocks.size());
            for (WeightBlock b : blocks) {
                assertEquals(WeightBlock.tensorNames(layout.layers[b.layer()]), b.tensors().stream().map(WeightBlock.Stored::name).toList());
                assertEquals(0, b.bytes() % WeightBlock.ALIGN);
                MemorySegment block = arena.allocate(b.bytes());
                block.fill((byte) 0x5A); // copyTo must overwrite every byte, gaps included
                b.copyTo(block);
                long end = 0;
                for (WeightBlock.Stored t : b.tensors()) {
                    for (WeightBlock.Piece p : t.pieces()) {
                        assertEquals(0, p.offset() % WeightBlock.ALIGN, t.name() + " " + p.kind());
                        assertThat(p.offset()).isGreaterThanOrEqualTo(end);
                        for (long i = end; i < p.offset(); i++) assertEquals(0, block.get(ValueLayout.JAVA_BYTE, i), "gap byte " + i);
                        assertEquals(-1, block.asSlice(p.offset(), p.bytes()).mismatch(expected(src, entro, t, p)), t.name() + " " + p.kind());
                        end = p.offset() + p.bytes();
                    }
                }
                for (long i = end; i < b.bytes(); i++) assertEquals(0, block.get(ValueLayout.JAVA_BYTE, i));
            }
        }
    }

    /** What a piece must hold, fetched independently of WeightBlock. */
    static MemorySegment expected(ModelSource src, EntroFile entro, WeightBlock.Stored t, WeightBlock.Piece p) {
        if (entro == null) {
            Tensor tensor = src.tensor(t.name());
            assertEquals(DType.BF16, t.rawDtype());
            return tensor.data();
        }
        EntroEntry e = entro.entries().stream().filter(x -> x.name().equals(t.name())).findFirst().orElseThrow();
        return switch (p.kind()) {
            case BITSTREAM -> entro.sectionBytes(((EntroEntry.Coded) e).bitstreamSection());
            case CHUNK_INDEX -> entro.sectionBytes(((EntroEntry.Coded) e).chunkIndexSection());
            case PARAMS -> entro.sectionBytes(((EntroEntry.Quantized) e).paramsSection());
            case PACKED -> entro.sectionBytes(((EntroEntry.Packed) e).packedSection());
            case RAW -> entro.rawTensor((EntroEntry.Raw) e).data();
            case DECODE_TABLE -> {
                HuffmanCodebook cb = entro.codebook((EntroEntry.Coded) e);
                short[] table = cb.decodeTable(t.tableBits());
                assertEquals(Math.max(1, cb.maxLength()), t.tableBits());
                MemorySegment m = MemorySegment.ofArray(new byte[2 * table.length]);
                for (int i = 0; i < table.length; i++) m.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, table[i]);
                yield m;
            }
        };
    }

    @Test
    void footprintComesFromTheBlocks() throws IOException {
        try (ModelSource bf16 = ModelSources.openHuggingFace(TestModels.sotuTiny());
             ModelSource u4 = ModelSources.openHuggingFace(huffman); ModelSource u4p = ModelSources.openHuggingFace(packed)) {
            ModelFootprint f16 = ModelFootprint.of(bf16, 128), f4 = ModelFootprint.of(u4, 128), f4p = ModelFootprint.of(u4p, 128);
            // the GPU form: stored halves for bf16 matrices, symbols two a byte with f32 scales for uint4
            // (the same form whether Huffman-coded or packed), float32 norms; the head as the layers
            long layerParams = 0, layerVectors = 0;
            for (Tensor t : bf16.tensors()) {
                if (io.entrollm.model.LlamaTensorNames.layerOf(t.name()) < 0) continue;
                if (t.shape().length < 2) layerVectors += t.elementCount();
                else layerParams += t.elementCount();
            }
            assertEquals(2 * layerParams + 4 * layerVectors, f16.decodedBytes());
            assertEquals(f4p.decodedBytes(), f4.decodedBytes());
            assertEquals(f4p.otherDecodedBytes(), f4.otherDecodedBytes());
            assertThat(f4.decodedBytes()).isBetween(layerParams / 2 + 4 * layerVectors, layerParams / 2 + 4 * layerVectors + 20L * 256 * f4.layerCodedBytes().size());
            // bf16 blocks: 2 bytes per weight plus alignment
            assertThat(f16.codedBytes()).isBetween(2 * layerParams, 2 * layerParams + 13L * 256 * f16.layerCodedBytes().size());
            // uint4: packed is about half a byte per weight; Huffman-coded is smaller still on this model
            assertThat(f4p.codedBytes()).isLessThan(f16.codedBytes() / 3);
            assertThat(f4.codedBytes()).isLessThan(f4p.codedBytes());
            // the compressed and streamed modes read bf16 matrices and packed tensors in place in the layer's
            // block: their scratch is coded symbols and widened bf16 norms (sotu-tiny's layers match: one layer's)
            assertEquals(4 * layerVectors / f16.layerCodedBytes().size(), f16.scratchBytes());
            assertEquals(4 * layerVectors / f16.layerCodedBytes().size(), f4p.scratchBytes());
            assertThat(f4.scratchBytes()).isBetween(layerParams / 2 / f4.layerCodedBytes().size(), f4.largestDecodedLayer());
            long always = f4.otherDecodedBytes() + f4.kvCacheBytes() + f4.activationBytes();
            assertEquals(always + 2 * f4.largestCodedLayer() + 2 * f4.scratchBytes(), f4.requiredBytes(ResidencyMode.STREAMED));
            assertTrue(f4.requiredBytes(ResidencyMode.COMPRESSED) < f4.requiredBytes(ResidencyMode.DECODED));
            // tied head: the embedding stays on the GPU (the head reads all of it), read whole once per token
            assertThat(io.entrollm.infer.EmbeddingRows.of(u4, LlamaLayout.of(u4))).isEmpty();
            assertEquals(f4.otherDecodedBytes(), f4.headReadBytes());
            assertEquals(f4.headReadBytes() + f4.codedBytes(), f4.weightBytesPerToken(ResidencyMode.STREAMED));
            assertEquals(f4.decodedBytes(), f4.layerBytesPerToken(ResidencyMode.DECODED));
            assertEquals(f4.codedBytes(), f4.pinnedHostBytes(StreamSource.HOST));
            // generation plans its activations for the prompt, not the whole context; the KV cache for the context
            ModelFootprint gen = ModelFootprint.of(u4, 128, 16);
            assertEquals(f4.kvCacheBytes(), gen.kvCacheBytes());
            assertThat(gen.activationBytes()).isLessThan(f4.activationBytes());
            assertThrows(IllegalArgumentException.class, () -> ModelFootprint.of(u4, 16, 17));
            assertEquals(2 * f4.largestCodedLayer(), f4.pinnedHostBytes(StreamSource.STORAGE));
        }
    }
}
