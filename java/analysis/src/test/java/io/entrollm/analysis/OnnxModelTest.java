package io.entrollm.analysis;

import com.google.protobuf.CodedOutputStream;
import io.entrollm.format.FormatException;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class OnnxModelTest {
    @TempDir Path tmp;

    private static byte[] tensorProto(String name, int dataType, long[] dims, boolean packedDims, byte[] raw, float[] floatData, int[] int32Data)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(bytes);
        if (packedDims) {
            int size = 0;
            for (long d : dims) size += CodedOutputStream.computeInt64SizeNoTag(d);
            o.writeTag(1, 2);
            o.writeUInt32NoTag(size);
            for (long d : dims) o.writeInt64NoTag(d);
        } else {
            for (long d : dims) o.writeInt64(1, d);
        }
        o.writeInt32(2, dataType);
        if (floatData != null) {
            o.writeTag(4, 2);
            o.writeUInt32NoTag(floatData.length * 4);
            for (float f : floatData) o.writeFloatNoTag(f);
        }
        if (int32Data != null) {
            for (int v : int32Data) o.writeInt32(5, v);
        }
        o.writeString(8, name);
        if (raw != null) o.writeByteArray(9, raw);
        o.flush();
        return bytes.toByteArray();
    }

    private static byte[] model(byte[]... initializers) throws IOException {
        ByteArrayOutputStream graph = new ByteArrayOutputStream();
        CodedOutputStream g = CodedOutputStream.newInstance(graph);
        g.writeString(2, "test-graph");
        for (byte[] t : initializers) g.writeByteArray(5, t);
        g.flush();
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        CodedOutputStream m = CodedOutputStream.newInstance(model);
        m.writeInt64(1, 8);
        m.writeString(2, "entrollm-test");
        m.writeByteArray(7, graph.toByteArray());
        m.flush();
        return model.toByteArray();
    }

    @Test
    void readsInitializersInEveryEncoding() throws IOException {
        float[] w = {1.5f, -2f, 0.25f, 8f, -0.5f, 3f};
        ByteBuffer raw = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : w) raw.putFloat(f);
        Path p = tmp.resolve("m.onnx");
        Files.write(p, model(
                tensorProto("raw", 1, new long[] {2, 3}, true, raw.array(), null, null),
                tensorProto("typed", 1, new long[] {3, 2}, false, null, w, null),
                tensorProto("int8", 3, new long[] {4}, true, null, null, new int[] {-128, -1, 0, 127})));
        try (ModelSource m = ModelSources.open(p)) {
            assertThat(m.formatDescription()).contains("ONNX (IR version 8)");
            assertEquals(3, m.tensors().size());
            Tensor a = m.tensor("raw"), b = m.tensor("typed"), c = m.tensor("int8");
            assertArrayEquals(new long[] {2, 3}, a.shape());
            assertArrayEquals(new long[] {3, 2}, b.shape());
            assertArrayEquals(w, TensorReader.toFloats(a));
            assertArrayEquals(w, TensorReader.toFloats(b));
            assertEquals(DType.I8, c.dtype());
            assertArrayEquals(new float[] {-128, -1, 0, 127}, TensorReader.toFloats(c));
        }
    }

    @Test
    void corruptProtobufIsAFormatError() throws IOException {
        byte[] good = model(tensorProto("raw", 1, new long[] {2}, true, new byte[8], null, null));
        Path p = tmp.resolve("cut.onnx");
        Files.write(p, java.util.Arrays.copyOf(good, good.length - 5));
        assertThat(assertThrows(FormatException.class, () -> OnnxModel.open(p).close()).getMessage()).contains("cut.onnx");
        Files.write(p, model(tensorProto("bad", 1, new long[] {3}, true, new byte[8], null, null)));
        assertThat(assertThrows(FormatException.class, () -> OnnxModel.open(p).close()).getMessage())
                .contains("tensor 'bad'").contains("raw_data holds 8 bytes, dims need 12");
    }

    /** langchain4j's e5-small-v2-q jar (a test dependency): a real int8-quantized encoder. */
    @Test
    void readsARealEncoderFromItsJar() throws IOException, URISyntaxException {
        URL url = getClass().getResource("/e5-small-v2-q.onnx");
        org.junit.jupiter.api.Assumptions.assumeTrue(url != null, "e5-small-v2-q jar not on the test class path");
        Path jar = Path.of(((java.net.JarURLConnection) url.openConnection()).getJarFileURL().toURI());
        try (ModelSource m = ModelSources.open(jar)) {
            assertThat(m.tensors().size()).isGreaterThan(50);
            long int8Weights = m.tensors().stream().filter(t -> (t.dtype() == DType.I8 || t.dtype() == DType.U8) && t.rank() == 2)
                    .mapToLong(Tensor::elementCount).sum();
            assertThat(int8Weights).as("quantized linear weights").isGreaterThan(10_000_000L);
            assertArrayEquals(new long[] {30522, 384}, m.tensor("embeddings.word_embeddings.weight_quantized").shape());
            assertEquals(DType.U8, m.tensor("embeddings.word_embeddings.weight_quantized").dtype());
        }
    }
}
