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
     * Every layer turned into its GPU form ({@link FormDecoder}) equals the CPU: coded and packed symbols
     * bit for bit (two a byte for 2..4 bits with even chunks; one a byte with odd chunks), scales and zeros
     * as the kernels read them, bf16 norms widened exactly, matrices as stored. Both placements: every
     * part owned (decoded mode) and parts read in place from the block (compressed and streamed modes).
     * Mixed bits and granularities in one batch: different table sizes and group sizes share the grid;
     * f16 scales reach the kernels widened.
     */
    @ParameterizedTest
    @CsvSource({"4, tensor, 4096, HUFFMAN, OWN, f32", "4, group:64, 33, HUFFMAN, OWN, f32", "8, channel, 4096, HUFFMAN, IN_PLACE, f32",
            "3, group:32, 4096, PACKED, OWN, f32", "4, group:32, 4096, PACKED, IN_PLACE, f16", "2, tensor, 32, HUFFMAN, IN_PLACE, f32",
            "4, group:32, 4096, HUFFMAN, OWN, f16"})
    void layerFormsEqualTheCpu(int bits, String granularity, int chunk, CompressOptions.Encoding encoding, FormDecoder.Placement placement, String scales)
            throws IOException {
        Path entro;
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            entro = compress(s, tmp.resolve("forms.entro"), new CompressOptions(bits, QuantScheme.MIXED, Granularity.parse(granularity), 12, chunk, false, encoding)
                    .withScaleDtype(DType.parse(scales)));
        }
        FormDecoder decoder = new FormDecoder(ctx);
        try (io.entrollm.infer.LanguageModel lm = io.entrollm.infer.LanguageModel.load(entro); CudaStream stream = new CudaStream()) {
            io.entrollm.infer.LlamaLayout layout = io.entrollm.infer.LlamaLayout.of(lm.source());
            for (io.entrollm.residency.WeightBlock b : io.entrollm.residency.WeightBlock.layers(lm.source(), layout)) {
                java.util.Map<String, DeviceBuffer> outs = new java.util.LinkedHashMap<>();
                for (io.entrollm.residency.WeightBlock.Stored t : b.tensors()) {
                    long need = FormDecoder.targetBytes(t, placement);
                    if (need > 0) outs.put(t.name(), DeviceBuffer.allocate(ctx, need, t.name()));
                }
                try (DeviceBuffer block = WeightBlocks.upload(ctx, b);
                     ErrorWords errors = new ErrorWords(ctx, entro, b.tensors().stream().map(io.entrollm.residency.WeightBlock.Stored::name).toList());
                     FormDecoder.Planned plan = decoder.plan(b, block.whole(), errors::address, placement, t -> outs.get(t.name()).whole())) {
                    plan.decode().launch(stream);
                    stream.synchronize();
                    errors.check();
                    for (io.entrollm.residency.WeightBlock.Stored t : b.tensors()) {
                        GpuWeight w = plan.weights().get(t.name());
                        StoredTensor st = lm.source().stored(t.name());
                        if (st instanceof StoredTensor.Quantized q) {
                            byte[] symbols = q.symbols();
                            boolean nibbles = bits <= 4 && (encoding == CompressOptions.Encoding.PACKED || chunk % 2 == 0);
                            assertEquals(nibbles ? GpuWeight.Form.U4 : GpuWeight.Form.U8, w.form(), t.name());
                            byte[] expected = nibbles ? new byte[(symbols.length + 1) / 2] : symbols;
                            if (nibbles) for (int i = 0; i < symbols.length; i++) expected[i / 2] |= (byte) (symbols[i] << (4 * (i % 2)));
                            assertArrayEquals(expected, download(w.data(), expected.length), t.name() + " symbols");
                            byte[] params = q.paramsF32().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                            DeviceBuffer holder = outs.containsKey(t.name()) && w.scales() >= outs.get(t.name()).address()
                                    && w.scales() < outs.get(t.name()).address() + outs.get(t.name()).bytes() ? outs.get(t.name()) : block;
                            assertArrayEquals(params, download(holder.slice(w.scales() - holder.address(), params.length), params.length), t.name() + " scales and zeros");
                            assertEquals(q.scheme() == io.entrollm.quant.AppliedScheme.ASYM ? w.scales() + 4 * q.groups() : 0, w.zeros());
                        } else if (t.vector()) {
                            assertEquals(GpuWeight.Form.F32, w.form());
                            float[] expected = st.dequantize();
                            assertArrayEquals(expected, toFloats(download(w.data(), 4 * expected.length)), t.name());
                        }
                    }
                } finally {
                    outs.values().forEach(DeviceBuffer::close);
                }
            }
        }
    }

    private static byte[] download(DeviceSlice slice, int bytes) {
        byte[] out = new byte[bytes];
        Cuda.check(jcuda.driver.JCudaDriver.cuMemcpyDtoH(jcuda.Pointer.to(out), slice.pointer(), bytes), "cuMemcpyDtoH");
        return out;
    }

    private static float[] toFloats(byte[] b) {
        float[] f = new float[b.length / 4];
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().get(f);
        return f;
    }
}
