package io.entrollm.gpu;

import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.infer.LanguageModel;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.model.StoredTensor;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.residency.WeightBlock;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused matmul (cuda-kernels/huffman_gemv.cu) on sotu-tiny's coded tensors against float64 sums of
 * the CPU's dequantized weights: whole tensors and row views whose ends fall inside chunks, chunks
 * that span rows and rows that span chunks, 1 to 8 tokens; and a corrupt table reported, not multiplied.
 */
@Tag("gpu")
class GpuFusedGemvTest {
    /** Per output, relative to the sum of the terms' magnitudes: float32 accumulation, atomics adding partial sums in any order. */
    static final double TOLERANCE = 1e-5;
    static CudaContext ctx;
    @TempDir static Path tmp;

    @BeforeAll
    static void open() { ctx = GpuTests.openOrSkip(); }

    @AfterAll
    static void close() { if (ctx != null) ctx.close(); }

    static Path compress(int bits, String granularity, int chunk) throws IOException {
        Path out = tmp.resolve("fused-" + bits + "-" + granularity.replace(':', '-') + "-" + chunk + ".entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, out, new CompressOptions(bits, QuantScheme.MIXED, Granularity.parse(granularity), 12, chunk, false,
                    CompressOptions.Encoding.HUFFMAN), null);
        }
        return out;
    }

    /** One coded tensor uploaded as a block, with its fused-matmul parameters. */
    record Uploaded(DeviceBuffer block, DeviceBuffer symbols, ErrorWords errors, FormDecoder.Planned plan) implements AutoCloseable {
        FormDecoder.Coded coded(String name) { return plan.coded().get(name); }

        @Override
        public void close() {
            plan.close();
            errors.close();
            symbols.close();
            block.close();
        }
    }

    static Uploaded upload(Path file, StoredTensor.Coded t) {
        WeightBlock b = WeightBlock.of(0, List.of(t));
        DeviceBuffer block = WeightBlocks.upload(ctx, b);
        DeviceBuffer symbols = DeviceBuffer.allocate(ctx, b.tensors().get(0).residentScratchBytes(), "symbols");
        ErrorWords errors = new ErrorWords(ctx, file, List.of(t.name()));
        FormDecoder.Planned plan = new FormDecoder(ctx).plan(b, block.whole(), errors::address, FormDecoder.Placement.IN_PLACE, s -> symbols.whole());
        return new Uploaded(block, symbols, errors, plan);
    }

    @ParameterizedTest(name = "{0}-bit {1}, chunks of {2}: {3}")
    @CsvSource({"4, group:64, 33, model.layers.0.mlp.down_proj.weight", "8, channel, 4096, model.layers.1.self_attn.q_proj.weight",
            "3, tensor, 100, model.layers.2.mlp.up_proj.weight"})
    void fusedMatmulMatchesTheFloat64Reference(int bits, String granularity, int chunk, String name) throws IOException {
        Path file = compress(bits, granularity, chunk);
        try (LanguageModel lm = LanguageModel.load(file); CudaStream s = new CudaStream()) {
            StoredTensor.Coded t = (StoredTensor.Coded) lm.source().stored(name);
            float[] w = t.dequantize();
            int rows = (int) t.shape()[0], cols = (int) t.shape()[1];
            Random r = new Random(bits);
            try (Uploaded u = upload(file, t)) {
                GemvLauncher gemv = new GemvLauncher(ctx);
                // the whole tensor, and a view of odd rows whose first and last elements lie inside chunks
                int[][] views = {{0, rows}, {3, rows / 3 + 1}};
                for (int[] v : views) {
                    for (int tokens : new int[] {1, 5, 8}) {
                        float[] x = new float[tokens * cols];
                        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                        try (DeviceBuffer dx = DeviceBuffer.copyOf(ctx, MemorySegment.ofArray(x), "x"); DeviceBuffer dy = DeviceBuffer.allocate(ctx, 4L * tokens * v[1], "y")) {
                            gemv.huffman(u.coded(name).params(), v[0], v[1], cols, dx.whole(), dy.whole(), tokens, s);
                            s.synchronize();
                            u.errors().check();
                            float[] y = dy.downloadFloats();
                            for (int tk = 0; tk < tokens; tk++) {
                                for (int o = 0; o < v[1]; o++) {
                                    double ref = 0, magnitude = 0;
                                    for (int c = 0; c < cols; c++) {
                                        double wv = w[(v[0] + o) * cols + c], xv = x[tk * cols + c];
                                        ref += wv * xv;
                                        magnitude += Math.abs(wv * xv);
                                    }
                                    double got = y[tk * v[1] + o];
                                    assertTrue(Math.abs(got - ref) <= TOLERANCE * magnitude, name + " rows " + v[0] + "+" + o + " token " + tk + ": " + got + " vs " + ref);
                                }
                            }
                        }
                    }
                }
                assertThrows(IllegalArgumentException.class, () -> gemv.huffman(u.coded(name).params(), 0, rows, cols, u.block().whole(), u.block().whole(), 9, s),
                        "more tokens than one register batch");
            }
        }
    }

    /** A decode table zeroed on the GPU: every lookup is an invalid code, reported for the tensor instead of multiplied. */
    @Test
    void corruptTableIsReported() throws IOException {
        Path file = compress(4, "tensor", 4096);
        String name = "model.layers.0.self_attn.o_proj.weight";
        try (LanguageModel lm = LanguageModel.load(file); CudaStream s = new CudaStream()) {
            StoredTensor.Coded t = (StoredTensor.Coded) lm.source().stored(name);
            int rows = (int) t.shape()[0], cols = (int) t.shape()[1];
            try (Uploaded u = upload(file, t); DeviceBuffer x = DeviceBuffer.allocate(ctx, 4L * cols, "x"); DeviceBuffer y = DeviceBuffer.allocate(ctx, 4L * rows, "y")) {
                WeightBlock.Piece table = WeightBlock.of(0, List.of(t)).tensors().get(0).piece(WeightBlock.PieceKind.DECODE_TABLE);
                Cuda.check(jcuda.driver.JCudaDriver.cuMemsetD8(u.block().slice(table.offset(), table.bytes()).pointer(), (byte) 0, table.bytes()), "cuMemsetD8");
                x.zero();
                new GemvLauncher(ctx).huffman(u.coded(name).params(), 0, rows, cols, x.whole(), y.whole(), 1, s);
                s.synchronize();
                assertThat(assertThrows(RuntimeException.class, u.errors()::check).getMessage()).contains(name);
            }
        }
    }
}
