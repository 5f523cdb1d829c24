package io.entrollm.format.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.io.AtomicFile;
import io.entrollm.io.ChannelWriter;
import io.entrollm.tensor.Tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes one safetensors file atomically: the header lists the tensors in the given order with
 * contiguous offsets, padded with spaces to a multiple of 8 bytes so the data starts aligned.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    public static void write(Path out, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        try (AtomicFile file = AtomicFile.create(out)) {
            ChannelWriter w = new ChannelWriter(file.channel());
            w.u64(header.length).bytes(header);
            for (Tensor t : tensors) w.bytes(t.data());
            w.flush();
            file.commit();
        }
    }

    /** Total bytes {@link #write} produces for these tensors. */
    public static long fileSize(List<Tensor> tensors, Map<String, String> metadata) {
        long size = 8 + header(tensors, metadata).length;
        for (Tensor t : tensors) size += t.byteSize();
        return size;
    }

    private static byte[] header(List<Tensor> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            String st = t.dtype().safetensorsName().orElseThrow(() ->
                    new IllegalArgumentException("tensor '" + t.name() + "': " + t.dtype() + " has no safetensors dtype"));
            if (root.has(t.name())) throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "'");
            ObjectNode entry = root.putObject(t.name());
            entry.put("dtype", st);
            ArrayNode shape = entry.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            ArrayNode offsets = entry.putArray("data_offsets");
            offsets.add(offset);
            offset += t.byteSize();
            offsets.add(offset);
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        java.util.Arrays.fill(header, (byte) ' ');
        System.arraycopy(json, 0, header, 0, json.length);
        return header;
    }
}
