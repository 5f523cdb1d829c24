package io.entrollm.format.safetensors;

import io.entrollm.format.FormatException;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.testing.Fixtures;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsFileTest {
    @TempDir Path tmp;

    @Test
    void readsTheBundledModel() throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(TestModels.sotuTiny().resolve("model.safetensors"))) {
            assertEquals(74, f.tensors().size());
            Tensor emb = f.tensors().stream().filter(t -> t.name().equals("model.embed_tokens.weight")).findFirst().orElseThrow();
            assertEquals(DType.BF16, emb.dtype());
            assertArrayEquals(new long[] {4096, 256}, emb.shape());
            Tensor q = f.tensors().stream().filter(t -> t.name().equals("model.layers.7.self_attn.k_proj.weight")).findFirst().orElseThrow();
            assertArrayEquals(new long[] {128, 256}, q.shape());
        }
    }

    @Test
    void writerRoundTripsEveryDtype() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> tensors = List.of(
                    Fixtures.randomBytes("a.f32", DType.F32, new long[] {3, 5}, 1, arena),
                    Fixtures.randomBytes("b.f16", DType.F16, new long[] {7}, 2, arena),
                    Fixtures.randomBytes("c.bf16", DType.BF16, new long[] {1, 1, 9}, 3, arena),
                    Fixtures.randomBytes("d.i8", DType.I8, new long[] {13}, 4, arena),
                    Fixtures.randomBytes("e.u8", DType.U8, new long[] {2, 2}, 5, arena),
                    Fixtures.randomBytes("f.empty", DType.F32, new long[] {0, 4}, 6, arena),
                    Fixtures.randomBytes("g.scalar", DType.F64, new long[] {}, 7, arena));
            Path out = tmp.resolve("x.safetensors");
            SafetensorsWriter.write(out, tensors, Map.of("format", "pt"));
            try (SafetensorsFile f = SafetensorsFile.open(out)) {
                assertEquals(tensors, f.tensors());
                assertEquals("pt", f.metadata().get("format"));
            }
        }
    }

    // ------------------------------------------------------------------ corrupt inputs

    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve("bad.safetensors");
        Files.write(p, b.array());
        return p;
    }

    private String error(Path p) {
        FormatException e = assertThrows(FormatException.class, () -> SafetensorsFile.open(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void rejectsFilesShorterThanTheLengthPrefix() throws IOException {
        Path p = tmp.resolve("short.safetensors");
        Files.write(p, new byte[5]);
        assertThat(error(p)).contains("truncated");
    }

    @Test
    void rejectsHeaderLengthPastEof() throws IOException {
        Path p = tmp.resolve("long.safetensors");
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(500);
        Files.write(p, b.array());
        assertThat(error(p)).contains("runs past the end");
    }

    @Test
    void rejectsImplausibleHeaderLength() throws IOException {
        Path p = tmp.resolve("huge.safetensors");
        Files.write(p, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array());
        assertThat(error(p)).contains("not a plausible");
    }

    @Test
    void rejectsInvalidJson() throws IOException {
        assertThat(error(file("{\"a\": [", 0))).contains("not valid JSON");
    }

    @Test
    void rejectsUnknownDtype() throws IOException {
        assertThat(error(file("{\"w\":{\"dtype\":\"Q9\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2)))
                .contains("tensor 'w'").contains("unknown or unsupported dtype 'Q9'");
    }

    @Test
    void rejectsShapeByteSizeMismatch() throws IOException {
        assertThat(error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20)))
                .contains("tensor 'w'").contains("needs 24 bytes but data_offsets span 20");
    }

    @Test
    void rejectsOffsetsPastTheData() throws IOException {
        assertThat(error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)))
                .contains("tensor 'w'").contains("past the end of the data");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        assertThat(error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12))).contains("overlap");
    }

    @Test
    void rejectsHolesAndTrailingBytes() throws IOException {
        assertThat(error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8))).contains("hole");
        assertThat(error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8))).contains("cover 4 bytes");
    }

    @Test
    void rejectsShapeOverflow() throws IOException {
        assertThat(error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0)))
                .contains("overflows");
    }

    @Test
    void rejectsNegativeDimensionsAndBadOffsets() throws IOException {
        assertThat(error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0))).contains("negative");
        assertThat(error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8))).contains("ascending");
        assertThat(error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4))).contains("data_offsets");
    }

    @Test
    void everyTruncationOfARealFileIsAFormatError() throws IOException {
        byte[] full = Files.readAllBytes(TestModels.sotuTiny().resolve("model.safetensors"));
        long headerEnd = ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).getLong(0) + 8;
        for (long cut : new long[] {0, 4, 8, 100, headerEnd - 1, headerEnd, headerEnd + 1000, full.length - 1}) {
            Path p = tmp.resolve("cut" + cut + ".safetensors");
            Files.write(p, java.util.Arrays.copyOf(full, (int) cut));
            error(p);
        }
    }

    @Test
    void rejectsAnythingAfterTheHeaderObject() throws IOException {
        String ok = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertThat(error(file(ok + "garbage", 4))).contains("header is not valid JSON");
        assertThat(error(file(ok + "{}", 4))).contains("header is not valid JSON");
        // the reference writer's space padding is no error
        try (SafetensorsFile f = SafetensorsFile.open(file(ok + "      ", 4))) {
            assertEquals(1, f.tensors().size());
        }
    }

    @Test
    void rejectsInvalidUtf8AndDuplicateNamesInTheHeader() throws IOException {
        Path p = tmp.resolve("utf8.safetensors");
        byte[] h = "{\"w\u00ff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(p, ByteBuffer.allocate(8 + h.length + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array());
        assertThat(error(p)).contains("header is not valid JSON").contains("UTF-8");
        String dup = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        assertThat(error(file(dup, 4))).contains("Duplicate field 'w'");
    }
}
