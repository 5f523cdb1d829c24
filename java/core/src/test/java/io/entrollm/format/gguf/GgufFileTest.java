package io.entrollm.format.gguf;

import io.entrollm.format.FormatException;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;
import io.entrollm.testing.Fixtures;
import io.entrollm.testing.GgufBytes;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GgufFileTest {
    @TempDir Path tmp;

    private static Map<String, GgufValue> everyValueType() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("u8", GgufValue.of(GgufValueType.UINT8, 255L));
        m.put("i8", GgufValue.of(GgufValueType.INT8, -128L));
        m.put("u16", GgufValue.of(GgufValueType.UINT16, 65535L));
        m.put("i16", GgufValue.of(GgufValueType.INT16, -32768L));
        m.put("u32", GgufValue.of(GgufValueType.UINT32, 4294967295L));
        m.put("i32", GgufValue.of(GgufValueType.INT32, -5L));
        m.put("f32", GgufValue.of(GgufValueType.FLOAT32, 0.5));
        m.put("bool", GgufValue.bool(true));
        m.put("str", GgufValue.string("héllo"));
        m.put("u64", GgufValue.of(GgufValueType.UINT64, -1L));
        m.put("i64", GgufValue.of(GgufValueType.INT64, Long.MIN_VALUE));
        m.put("f64", GgufValue.of(GgufValueType.FLOAT64, Math.PI));
        m.put("arr.str", GgufValue.array(GgufValueType.STRING, List.of("a", "", "ccc")));
        m.put("arr.i32", GgufValue.array(GgufValueType.INT32, List.of(1L, -2L, 3L)));
        m.put("arr.empty", GgufValue.array(GgufValueType.FLOAT32, List.of()));
        m.put("arr.nested", GgufValue.array(GgufValueType.ARRAY,
                List.of(GgufValue.array(GgufValueType.UINT8, List.of(1L, 2L)), GgufValue.array(GgufValueType.STRING, List.of("x")))));
        return m;
    }

    @Test
    void writerAndReaderRoundTripMetadataAndTensors() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> tensors = List.of(
                    Fixtures.randomBytes("a", DType.F32, new long[] {3, 5}, 1, arena),
                    Fixtures.randomBytes("b", DType.F16, new long[] {7}, 2, arena),
                    Fixtures.randomBytes("c", DType.BF16, new long[] {2, 3, 4, 5}, 3, arena),
                    Fixtures.randomBytes("d", DType.Q8_0, new long[] {2, 64}, 4, arena),
                    Fixtures.randomBytes("e", DType.Q4_0, new long[] {3, 32}, 5, arena),
                    Fixtures.randomBytes("f", DType.Q4_1, new long[] {1, 96}, 6, arena));
            Path p = tmp.resolve("x.gguf");
            GgufWriter.write(p, everyValueType(), tensors);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(3, f.version());
                assertEquals(tensors, f.tensors());
                assertEquals(everyValueType(), f.metadata());
                for (Tensor t : f.tensors()) assertEquals(0, (t.data().address() - f.tensors().get(0).data().address()) % 32);
            }
        }
    }

    @Test
    void honoursACustomAlignment() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> tensors = List.of(Fixtures.randomBytes("a", DType.F32, new long[] {3}, 1, arena),
                    Fixtures.randomBytes("b", DType.F32, new long[] {5}, 2, arena));
            Path p = tmp.resolve("al.gguf");
            GgufWriter.write(p, Map.of("general.alignment", GgufValue.u32(256)), tensors);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(256, f.alignment());
                assertEquals(0, f.dataStart() % 256);
                assertEquals(tensors, f.tensors());
            }
        }
    }

    // ------------------------------------------------------------------ corrupt inputs

    private String error(byte[] bytes) throws IOException {
        Path p = tmp.resolve("bad.gguf");
        Files.write(p, bytes);
        FormatException e = assertThrows(FormatException.class, () -> GgufFile.open(p).close());
        assertThat(e.getMessage()).startsWith(p.toString());
        return e.getMessage();
    }

    /** A valid file with one F32 tensor [ne0] at offset 0, with the given overrides. */
    private static byte[] oneTensor(long version, long[] ne, long type, long offset, int dataBytes) {
        GgufBytes b = new GgufBytes().header(version, 1, 0).tensorInfo("w", ne, type, offset).padTo(32);
        return b.zeros(dataBytes).bytes();
    }

    @Test
    void acceptsTheHandBuiltBaseline() throws IOException {
        Path p = tmp.resolve("ok.gguf");
        Files.write(p, oneTensor(2, new long[] {4}, 0, 0, 16));
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(2, f.version());
            assertArrayEquals(new long[] {4}, f.tensors().get(0).shape());
        }
    }

    @Test
    void rejectsBadMagic() throws IOException {
        byte[] b = oneTensor(3, new long[] {4}, 0, 0, 16);
        b[0] = 'X';
        assertThat(error(b)).contains("bad magic");
    }

    @Test
    void rejectsUnsupportedVersions() throws IOException {
        assertThat(error(oneTensor(1, new long[] {4}, 0, 0, 16))).contains("version 1 is not supported");
        assertThat(error(oneTensor(7, new long[] {4}, 0, 0, 16))).contains("unsupported GGUF version 7");
        assertThat(error(oneTensor(0x03000000, new long[] {4}, 0, 0, 16))).contains("big-endian");
    }

    @Test
    void rejectsUnknownAndUnsupportedTensorTypes() throws IOException {
        assertThat(error(oneTensor(3, new long[] {32}, 23, 0, 144))).contains("tensor 'w'").contains("IQ4_XS");
        assertThat(error(oneTensor(3, new long[] {4}, 99, 0, 16))).contains("unknown GGML type id 99");
    }

    @Test
    void rejectsMisalignedAndOutOfPlaceOffsets() throws IOException {
        assertThat(error(oneTensor(3, new long[] {4}, 0, 4, 32))).contains("not aligned");
        assertThat(error(oneTensor(3, new long[] {4}, 0, 64, 96))).contains("should be 0");
        byte[] overlapping = new GgufBytes().header(3, 2, 0)
                .tensorInfo("a", new long[] {16}, 0, 0).tensorInfo("b", new long[] {16}, 0, 32)
                .padTo(32).zeros(128).bytes();
        assertThat(error(overlapping)).contains("tensor 'b'").contains("should be 64");
    }

    @Test
    void rejectsDataPastEof() throws IOException {
        assertThat(error(oneTensor(3, new long[] {64}, 0, 0, 100))).contains("tensor 'w'").contains("runs past the end");
    }

    @Test
    void rejectsBadDimensions() throws IOException {
        assertThat(error(oneTensor(3, new long[] {1, 1, 1, 1, 1}, 0, 0, 4))).contains("n_dims = 5");
        assertThat(error(oneTensor(3, new long[] {1L << 40, 1L << 40}, 0, 0, 4))).contains("overflows");
        assertThat(error(oneTensor(3, new long[] {-1L}, 0, 0, 4))).contains("overflows");
        assertThat(error(oneTensor(3, new long[] {33}, 8, 0, 64))).contains("not a multiple of the Q8_0 block size 32");
    }

    @Test
    void rejectsCorruptMetadata() throws IOException {
        assertThat(error(new GgufBytes().header(3, 0, 1).string("k").u32(77).zeros(8).bytes())).contains("unknown value type 77");
        assertThat(error(new GgufBytes().header(3, 0, 1).string("k").u32(8).u64(1L << 40).bytes())).contains("claims");
        assertThat(error(new GgufBytes().header(3, 0, 1000).bytes())).contains("cannot fit");
        assertThat(error(new GgufBytes().header(3, 0, 1).string("k").u32(9).u32(4).u64(1L << 60).bytes())).contains("cannot fit");
        assertThat(error(new GgufBytes().header(3, 0, 1).string("general.alignment").u32(4).u32(48).bytes()))
                .contains("not a power of two");
        assertThat(error(new GgufBytes().header(3, 0, 1).string("b").u32(7).u32(2).zeros(32).bytes())).contains("bool");
    }

    /** Any prefix of a valid file is rejected with a FormatException, never another exception. */
    @Property(tries = 200)
    void everyTruncationIsAFormatError(@ForAll @IntRange(min = 0, max = 10_000) int cutSeed) throws IOException {
        byte[] full;
        try (Arena arena = Arena.ofConfined()) {
            Path p = Files.createTempFile("full", ".gguf");
            GgufWriter.write(p, everyValueType(), List.of(Fixtures.randomBytes("a", DType.F32, new long[] {8, 4}, 1, arena)));
            full = Files.readAllBytes(p);
            Files.delete(p);
        }
        int cut = cutSeed % full.length;
        Path p = Files.createTempFile("cut", ".gguf");
        try {
            Files.write(p, java.util.Arrays.copyOf(full, cut));
            assertThrows(FormatException.class, () -> GgufFile.open(p).close());
        } finally {
            Files.delete(p);
        }
    }

    /** Flipping any header byte gives a valid file or a FormatException, never a crash or hang. */
    @Property(tries = 300)
    void corruptHeaderBytesNeverEscapeAsOtherExceptions(@ForAll @IntRange(min = 0, max = 100_000) int seed) throws IOException {
        Path p = Files.createTempFile("flip", ".gguf");
        try (Arena arena = Arena.ofConfined()) {
            GgufWriter.write(p, everyValueType(), List.of(Fixtures.randomBytes("a", DType.F32, new long[] {8, 4}, 1, arena)));
            byte[] b = Files.readAllBytes(p);
            int headerBytes = b.length - 128;
            int pos = seed % headerBytes;
            b[pos] ^= (byte) (1 << (seed / headerBytes % 8));
            Files.write(p, b);
            try (GgufFile f = GgufFile.open(p)) {
                for (Tensor t : f.tensors()) if (t.dtype().isFloatingPoint()) TensorReader.toFloats(t);
            } catch (FormatException expected) {
                // the flip was detected
            }
        } finally {
            Files.delete(p);
        }
    }

    @Test
    void arraysNestedTenThousandDeepAreRefusedWithoutRecursingThatDeep() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1).string("deep").u32(GgufValueType.ARRAY.id());
        for (int i = 0; i < 10_000; i++) b.u32(GgufValueType.ARRAY.id()).u64(1);
        b.u32(GgufValueType.UINT8.id()).u64(0);
        assertThat(error(b.bytes())).contains("metadata 'deep'").contains("nested more than " + GgufFile.MAX_ARRAY_NESTING + " deep");
    }

    @Test
    void anOffsetPlusSizeThatOverflowsIsATruncationNotAnAccept() throws IOException {
        // the second tensor sits right after the first, as required, but claims nearly 2^63 bytes
        byte[] f = new GgufBytes().header(3, 2, 0).tensorInfo("a", new long[] {8}, 0, 0)
                .tensorInfo("b", new long[] {(Long.MAX_VALUE - 64) / 4}, 0, 32).padTo(32).zeros(64).bytes();
        assertThat(error(f)).contains("tensor 'b'").contains("runs past the end of the file");
    }

    @Test
    void namesWithLineBreaksStayOnOneLineInMessages() throws IOException {
        String m = error(new GgufBytes().header(3, 1, 0).tensorInfo("evil\nname", new long[] {4}, 99, 0).padTo(32).zeros(16).bytes());
        assertThat(m).doesNotContain("\n").contains("evil\\nname");
    }

    @Test
    void aHugeNumericArrayIsAViewOfTheFileNotAHeapCopy() throws IOException {
        long n = 256L << 20; // 256 Mi u8 values (a sparse file): boxed one by one they took gigabytes and minutes
        Path p = tmp.resolve("big-array.gguf");
        byte[] head = new GgufBytes().header(3, 0, 1).string("big").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.UINT8.id()).u64(n).bytes();
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(head));
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {7}), head.length + n - 1); // sparse: the rest reads as zeros
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), io.entrollm.io.Alignment.alignUp(head.length + n, 32) - 1 + 32);
        }
        long t0 = System.nanoTime();
        try (GgufFile f = GgufFile.open(p)) {
            List<Long> values = f.integers("big").orElseThrow();
            assertEquals(n, values.size());
            assertEquals(7L, values.get((int) n - 1));
            assertEquals(0L, values.get(12345));
            assertThat(f.get("big").orElseThrow().summary()).isEqualTo("[" + n + " x UINT8]");
        }
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds to open and read three values").isLessThan(1.0);
    }

    @Test
    void aStringArrayLongerThanAnyVocabularyIsRefusedBeforeAllocating() throws IOException {
        long n = GgufFile.MAX_OBJECT_ARRAY_ELEMENTS + 1;
        Path p = tmp.resolve("many-strings.gguf");
        byte[] head = new GgufBytes().header(3, 0, 1).string("tokenizer.ggml.tokens").u32(GgufValueType.ARRAY.id())
                .u32(GgufValueType.STRING.id()).u64(n).bytes();
        try (var ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(head));
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), head.length + n * 8); // room for n empty strings
        }
        FormatException e = assertThrows(FormatException.class, () -> GgufFile.open(p).close());
        assertThat(e.getMessage()).contains("has " + n + " elements, more than the " + GgufFile.MAX_OBJECT_ARRAY_ELEMENTS);
    }

    @Test
    void typedAccessorsNameTheKeyAndTheTypeFound() throws IOException {
        byte[] f = new GgufBytes().header(3, 0, 1).string("tokenizer.ggml.token_type").u32(GgufValueType.ARRAY.id())
                .u32(GgufValueType.STRING.id()).u64(1).string("x").padTo(32).bytes();
        Path p = tmp.resolve("types.gguf");
        Files.write(p, f);
        try (GgufFile g = GgufFile.open(p)) {
            FormatException e = assertThrows(FormatException.class, () -> g.integers("tokenizer.ggml.token_type"));
            assertThat(e.getMessage()).startsWith(p.toString()).contains("tokenizer.ggml.token_type must be an array of integers, is ARRAY of STRING");
        }
    }
}
