package io.entrollm.gpu;

import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** CPU-side checks that the Java launchers and the CUDA sources agree (these run without a GPU). */
class KernelInterfaceTest {
    /** The size entro_format.cuh pins for {@code struct} with its static_assert. */
    static int headerSize(String struct) throws IOException {
        String header = Files.readString(TestModels.repoRoot().resolve("cuda-kernels/entro_format.cuh"));
        Matcher m = Pattern.compile("static_assert\\(sizeof\\(" + struct + "\\) == (\\d+)").matcher(header);
        assertThat(m.find()).as("static_assert for " + struct).isTrue();
        return Integer.parseInt(m.group(1));
    }

    @Test
    void decodeParamsSizeMatchesTheHeader() throws IOException {
        assertEquals(DecodeParams.BYTES, headerSize("DecodeParams"));
        assertEquals(DecodeParams.BYTES, new DecodeParams(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15).toBytes().length);
    }

    @Test
    void unpackParamsSizeMatchesTheHeader() throws IOException {
        assertEquals(UnpackParams.BYTES, headerSize("UnpackParams"));
        assertEquals(UnpackParams.BYTES, new UnpackParams(1, 2, 3, 4, 5, 6, 7, 8).toBytes().length);
        String source = Files.readString(TestModels.repoRoot().resolve("cuda-kernels/" + PackedDecodeLauncher.MODULE + ".cu"));
        for (OutputType t : new OutputType[] {OutputType.F32, OutputType.F16, OutputType.BF16}) {
            assertThat(source).contains("extern \"C\" __global__ void " + PackedDecodeLauncher.kernel(t) + "(");
        }
    }

    /** The weight-form views (gemv.cu): the header's size, the form ids, and every kernel the launchers name. */
    @Test
    void weightParamsMatchTheHeader() throws IOException {
        assertEquals(GpuWeight.WEIGHT_PARAMS_BYTES, headerSize("WeightParams"));
        String source = Files.readString(TestModels.repoRoot().resolve("cuda-kernels/" + GemvLauncher.MODULE + ".cu"));
        for (GpuWeight.Form f : GpuWeight.Form.values()) {
            if (f != GpuWeight.Form.F32) assertThat(source).contains("extern \"C\" __global__ void " + GemvLauncher.kernel(f) + "(");
        }
        for (String k : new String[] {"entro_embed_rows", "entro_weights_to_f16", "entro_split_f16"}) assertThat(source).contains("extern \"C\" __global__ void " + k + "(");
        String header = Files.readString(TestModels.repoRoot().resolve("cuda-kernels/entro_format.cuh"));
        for (GpuWeight.Form f : GpuWeight.Form.values()) {
            if (f != GpuWeight.Form.F32) assertThat(header).contains("FORM_" + f + " = " + f.id);
        }
        assertThat(Files.readString(TestModels.repoRoot().resolve("cuda-kernels/huffman_decode.cu")))
                .contains("extern \"C\" __global__ void " + HuffmanDecodeLauncher.BATCH_SYMBOLS_KERNEL + "(");
    }

    @Test
    void widenKernelsExistInTheSource() throws IOException {
        String source = Files.readString(TestModels.repoRoot().resolve("cuda-kernels/" + WidenLauncher.MODULE + ".cu"));
        for (io.entrollm.tensor.DType t : new io.entrollm.tensor.DType[] {io.entrollm.tensor.DType.F16, io.entrollm.tensor.DType.BF16}) {
            assertThat(source).contains("extern \"C\" __global__ void " + WidenLauncher.kernel(t) + "(");
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> WidenLauncher.kernel(io.entrollm.tensor.DType.Q8_0));
    }

    /**
     * The batched decode's entries: the header's size, the kernel's name, and the block ranges the
     * kernel's scan (first entry whose successor starts after the block) assigns.
     */
    @Test
    void batchEntriesMatchTheHeaderAndCoverTheGrid() throws IOException {
        assertEquals(HuffmanDecodeLauncher.BATCH_ENTRY_BYTES, headerSize("BatchEntry"));
        assertThat(Files.readString(TestModels.repoRoot().resolve("cuda-kernels/huffman_decode.cu")))
                .contains("extern \"C\" __global__ void " + HuffmanDecodeLauncher.BATCH_SYMBOLS_KERNEL + "(");
        int[] chunks = {4096, 1, 128, 129, 14336, 0, 7};
        java.util.List<DecodeParams> params = new java.util.ArrayList<>();
        java.util.List<Long> outs = new java.util.ArrayList<>();
        java.util.List<Integer> forms = new java.util.ArrayList<>();
        for (int i = 0; i < chunks.length; i++) {
            params.add(new DecodeParams(1, 2, 3, 4, 5, 6, 7, 8, 9, chunks[i], 12, 8, 1, 1, 15));
            outs.add(1000L + i);
            forms.add(i % 2 == 0 ? GpuWeight.Form.U4.id : GpuWeight.Form.U8.id);
        }
        int[] grid = new int[1];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(HuffmanDecodeLauncher.batchEntries(params, outs, forms, grid)).order(java.nio.ByteOrder.nativeOrder());
        int total = 0;
        int[] first = new int[chunks.length];
        for (int i = 0; i < chunks.length; i++) {
            int at = i * HuffmanDecodeLauncher.BATCH_ENTRY_BYTES;
            assertEquals(chunks[i], b.getInt(at + 68), "n_chunks of entry " + i);
            assertEquals(1000L + i, b.getLong(at + DecodeParams.BYTES));
            first[i] = b.getInt(at + DecodeParams.BYTES + 8);
            assertEquals(forms.get(i), b.getInt(at + DecodeParams.BYTES + 12), "out_form of entry " + i);
            assertEquals(total, first[i]);
            total += (chunks[i] + HuffmanDecodeLauncher.THREADS_PER_BLOCK - 1) / HuffmanDecodeLauncher.THREADS_PER_BLOCK;
        }
        assertEquals(total, grid[0]);
        // the kernel's scan gives every block to the entry whose range holds it, each chunk exactly once
        int[] seen = new int[chunks.length];
        for (int block = 0; block < grid[0]; block++) {
            int e = 0;
            while (e + 1 < chunks.length && first[e + 1] <= block) ++e;
            int local = block - first[e];
            assertThat(local * HuffmanDecodeLauncher.THREADS_PER_BLOCK).isLessThan(chunks[e]);
            seen[e] += Math.min(HuffmanDecodeLauncher.THREADS_PER_BLOCK, chunks[e] - local * HuffmanDecodeLauncher.THREADS_PER_BLOCK);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(chunks, seen);
    }

    /** The launcher sizes shared memory for the kernel's staging tiles: their shape must agree. */
    @Test
    void sharedMemoryLayoutMatchesTheKernel() throws IOException {
        String source = Files.readString(TestModels.repoRoot().resolve("cuda-kernels/" + HuffmanDecodeLauncher.MODULE + ".cu"));
        Matcher tile = Pattern.compile("constexpr int kTile = (\\d+);").matcher(source);
        Matcher stride = Pattern.compile("constexpr int kTileStride = (\\d+);").matcher(source);
        assertThat(tile.find() && stride.find()).isTrue();
        assertEquals(HuffmanDecodeLauncher.TILE_WORDS, Integer.parseInt(tile.group(1)) * Integer.parseInt(stride.group(1)));
        assertEquals(0, HuffmanDecodeLauncher.THREADS_PER_BLOCK % 32);
        // 12-bit tables (the default limit) fit the 48 KiB every GPU gives without opting in, Jetson Nano included
        assertThat(HuffmanDecodeLauncher.sharedBytes(12)).isLessThanOrEqualTo(48 * 1024);
        assertEquals(4 * (1 + 4 * 32 * 33), HuffmanDecodeLauncher.sharedBytes(1));
    }

    @Test
    void everyKernelNameExistsInTheSource() throws IOException {
        String source = Files.readString(TestModels.repoRoot().resolve("cuda-kernels/" + HuffmanDecodeLauncher.MODULE + ".cu"));
        for (OutputType t : OutputType.values()) assertThat(source).contains("extern \"C\" __global__ void " + t.kernel + "(");
    }

    /** `make` builds the kernels whenever nvcc is on the PATH, and the jar must then carry them. */
    @Test
    void fatbinIsEmbeddedWhenNvccExists() {
        boolean nvcc = System.getenv("PATH") != null && java.util.Arrays.stream(System.getenv("PATH").split(":"))
                .anyMatch(d -> Files.isExecutable(java.nio.file.Path.of(d, "nvcc")));
        org.junit.jupiter.api.Assumptions.assumeTrue(nvcc, "nvcc not on PATH: kernels are not built here");
        assertNotNull(CudaContext.class.getResource("/io/entrollm/gpu/kernels/" + HuffmanDecodeLauncher.MODULE + ".fatbin"));
    }

    @Test
    void noDeviceIsAClearReasonNotACrash() {
        // On a GPU host this is null; elsewhere it explains why (no driver, no device).
        String why = Cuda.unavailableReason();
        if (why != null) assertThat(why).isNotBlank().doesNotContain("\n");
        assertEquals(why == null, Cuda.available());
    }
}
