package io.entrollm.gpu;

import io.entrollm.model.StoredTensor;

import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.container.EntroEntry;
import io.entrollm.container.EntroFile;
import io.entrollm.format.safetensors.SafetensorsWriter;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.FloatBits;
import io.entrollm.tensor.Tensor;
import io.entrollm.testing.Fixtures;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** GPU decode against the CPU decoder: symbols bit-identical, dequantized weights equal. */
@Tag("gpu")
class GpuDecodeTest {
    static CudaContext ctx;
    @TempDir Path tmp;

    @BeforeAll
    static void open() { ctx = GpuTests.openOrSkip(); }

    @AfterAll
    static void close() { if (ctx != null) ctx.close(); }

    private static Path compress(ModelSource src, Path out, CompressOptions o) throws IOException {
        EntroCompressor.compress(src, out, o, null);
        return out;
    }

    /** Every output type of every coded tensor equals the CPU reference exactly. */
    static void checkFile(Path entro) throws IOException {
        GpuDecoder decoder = new GpuDecoder(ctx);
        try (EntroFile f = EntroFile.open(entro); CudaStream stream = new CudaStream()) {
            for (EntroEntry e : f.entries()) {
                if (!(e instanceof EntroEntry.Coded c)) continue;
                StoredTensor.Coded stored = (StoredTensor.Coded) f.stored(c);
                byte[] symbols = stored.symbols();
                float[] weights = stored.dequantize();
                try (DeviceTensor t = decoder.decode(stored, OutputType.SYMBOLS_U8, stream)) {
                    assertArrayEquals(symbols, t.buffer().downloadBytes(), c.name() + " symbols");
                }
                try (DeviceTensor t = decoder.decode(stored, OutputType.F32, stream)) {
                    float[] gpu = t.buffer().downloadFloats();
                    for (int i = 0; i < weights.length; i++) {
                        assertEquals(Float.floatToIntBits(weights[i]), Float.floatToIntBits(gpu[i]), c.name() + " f32 weight " + i);
                    }
                }
                try (DeviceTensor h = decoder.decode(stored, OutputType.F16, stream); DeviceTensor b = decoder.decode(stored, OutputType.BF16, stream)) {
                    short[] f16 = h.buffer().downloadShorts(), bf16 = b.buffer().downloadShorts();
                    for (int i = 0; i < weights.length; i++) {
                        assertEquals(FloatBits.floatToF16(weights[i]), f16[i], c.name() + " f16 weight " + i);
                        assertEquals(FloatBits.floatToBf16(weights[i]), bf16[i], c.name() + " bf16 weight " + i);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"8, asym, tensor", "4, mixed, tensor", "4, sym, group:128", "3, auto, channel"})
    void everyTensorOfTheBundledModel(int bits, String scheme, String granularity) throws IOException {
        try (ModelSource src = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            checkFile(compress(src, tmp.resolve("m.entro"),
                    CompressOptions.defaults(bits, QuantScheme.parse(scheme), Granularity.parse(granularity))));
        }
    }

    /** The packed baseline decodes on the GPU to the CPU's dequantized weights (f32 exactly, f16/bf16 by RNE). */
    @ParameterizedTest
    @CsvSource({"8, tensor", "4, group:128", "3, channel"})
    void packedTensorsMatchTheCpu(int bits, String granularity) throws IOException {
        Path out = tmp.resolve("packed.entro");
        try (ModelSource src = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            compress(src, out, CompressOptions.defaults(bits, QuantScheme.MIXED, Granularity.parse(granularity))
                    .withEncoding(CompressOptions.Encoding.PACKED));
        }
        GpuDecoder decoder = new GpuDecoder(ctx);
        try (EntroFile f = EntroFile.open(out); CudaStream stream = new CudaStream()) {
            for (EntroEntry e : f.entries()) {
                if (!(e instanceof EntroEntry.Packed p)) continue;
                StoredTensor.Packed stored = (StoredTensor.Packed) f.stored(p);
                float[] weights = stored.dequantize();
                try (DeviceTensor t = decoder.decode(stored, OutputType.F32, stream); DeviceTensor h = decoder.decode(stored, OutputType.F16, stream);
                     DeviceTensor b = decoder.decode(stored, OutputType.BF16, stream)) {
                    float[] gpu = t.buffer().downloadFloats();
                    short[] f16 = h.buffer().downloadShorts(), bf16 = b.buffer().downloadShorts();
                    for (int i = 0; i < weights.length; i++) {
                        assertEquals(Float.floatToIntBits(weights[i]), Float.floatToIntBits(gpu[i]), p.name() + " f32 weight " + i);
                        assertEquals(FloatBits.floatToF16(weights[i]), f16[i], p.name() + " f16 weight " + i);
                        assertEquals(FloatBits.floatToBf16(weights[i]), bf16[i], p.name() + " bf16 weight " + i);
                    }
                }
            }
        }
    }

    @Test
    void randomTensorsOfOddSizesAndChunks() throws IOException {
        Path st = tmp.resolve("odd.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> tensors = new ArrayList<>();
            long[][] shapes = {{37, 113}, {1, 4099}, {1000, 33}, {3, 1}, {129, 257}};
            for (int i = 0; i < shapes.length; i++) {
                tensors.add(Fixtures.gaussian("layer" + i + ".weight", DType.F32, shapes[i], 0.02 * (i + 1), i, arena));
            }
            SafetensorsWriter.write(st, tensors, Map.of());
        }
        for (int chunk : new int[] {32, 33, 1000}) {
            try (ModelSource src = ModelSources.open(st)) {
                checkFile(compress(src, tmp.resolve("odd" + chunk + ".entro"),
                        new CompressOptions(5, QuantScheme.ASYM, Granularity.TENSOR, 11, chunk, false, CompressOptions.Encoding.HUFFMAN)));
            }
        }
    }

    /**
     * A whole layer through the batched decode (one launch for its coded tensors, one per raw tensor)
     * equals the CPU: dequantized weights bit for bit, raw norms widened exactly. Mixed bits and
     * granularities in one batch: different table sizes and group sizes share the grid.
     */
    @ParameterizedTest
    @CsvSource({"8, tensor, f32", "4, group:64, f32", "3, channel, f32", "4, group:32, f16"})
    void batchedLayerDecodeEqualsTheCpu(int bits, String granularity, String scales) throws IOException {
        Path entro;
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            entro = compress(s, tmp.resolve("b" + bits + scales + ".entro"), CompressOptions.defaults(bits, QuantScheme.MIXED, Granularity.parse(granularity))
                    .withScaleDtype(DType.parse(scales)));
        }
        BlockDecoder decoder = new BlockDecoder(ctx);
        try (io.entrollm.infer.LanguageModel lm = io.entrollm.infer.LanguageModel.load(entro); EntroFile f = EntroFile.open(entro);
             CudaStream stream = new CudaStream()) {
            io.entrollm.infer.LlamaLayout layout = io.entrollm.infer.LlamaLayout.of(lm.source());
            for (io.entrollm.residency.WeightBlock b : io.entrollm.residency.WeightBlock.layers(lm.source(), layout)) {
                java.util.Map<String, DeviceBuffer> outs = new java.util.LinkedHashMap<>();
                for (io.entrollm.residency.WeightBlock.Stored t : b.tensors()) outs.put(t.name(), DeviceBuffer.allocate(ctx, t.decodedBytes(), t.name()));
                try (DeviceBuffer block = WeightBlocks.upload(ctx, b);
                     ErrorWords errors = new ErrorWords(ctx, entro, b.tensors().stream().map(io.entrollm.residency.WeightBlock.Stored::name).toList());
                     LayerDecode decode = decoder.plan(b, block.whole(), errors::address, t -> outs.get(t.name()))) {
                    decode.launch(stream);
                    stream.synchronize();
                    errors.check();
                    for (EntroEntry e : f.entries()) {
                        if (!outs.containsKey(e.name())) continue;
                        float[] expected = switch (e) {
                            case EntroEntry.Raw r -> io.entrollm.tensor.TensorReader.toFloats(f.rawTensor(r));
                            default -> f.stored(e).dequantize();
                        };
                        assertArrayEquals(expected, outs.get(e.name()).downloadFloats(), e.name());
                    }
                } finally {
                    outs.values().forEach(DeviceBuffer::close);
                }
            }
        }
    }
}
