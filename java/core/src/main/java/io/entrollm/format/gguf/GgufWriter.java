package io.entrollm.format.gguf;

import io.entrollm.io.Alignment;
import io.entrollm.io.AtomicFile;
import io.entrollm.io.ChannelWriter;
import io.entrollm.tensor.Tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files atomically, in the layout {@link GgufFile} reads: tensor data packed in the
 * given order, each tensor padded to the alignment. Any tensor type with a GGML id can be written
 * (F32, F16, BF16 and the block types as they are).
 */
public final class GgufWriter {
    public static final int VERSION = 3;

    private GgufWriter() {}

    public static void write(Path out, Map<String, GgufValue> metadata, List<Tensor> tensors) throws IOException {
        Map<String, GgufValue> meta = new LinkedHashMap<>(metadata);
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        if (meta.containsKey(GgufFile.ALIGNMENT_KEY)) alignment = (int) meta.get(GgufFile.ALIGNMENT_KEY).asLong();
        try (AtomicFile file = AtomicFile.create(out)) {
            ChannelWriter w = new ChannelWriter(file.channel());
            w.u32(GgufFile.MAGIC).u32(VERSION).u64(tensors.size()).u64(meta.size());
            for (Map.Entry<String, GgufValue> e : meta.entrySet()) {
                string(w, e.getKey());
                w.u32(e.getValue().type().id());
                value(w, e.getValue().type(), e.getValue().elementType(), e.getValue().value());
            }
            long offset = 0;
            for (Tensor t : tensors) {
                if (t.dtype().ggmlId() < 0) throw new IllegalArgumentException("tensor '" + t.name() + "': " + t.dtype() + " has no GGML type");
                string(w, t.name());
                long[] shape = t.shape();
                w.u32(shape.length);
                for (int d = shape.length - 1; d >= 0; d--) w.u64(shape[d]);
                w.u32(t.dtype().ggmlId()).u64(offset);
                offset = Alignment.alignUp(offset + t.byteSize(), alignment);
            }
            w.padTo(alignment);
            for (Tensor t : tensors) w.bytes(t.data()).padTo(alignment);
            w.flush();
            file.commit();
        }
    }

    private static void string(ChannelWriter w, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        w.u64(b.length).bytes(b);
    }

    private static void value(ChannelWriter w, GgufValueType type, GgufValueType elementType, Object v) throws IOException {
        switch (type) {
            case UINT8, INT8 -> w.u8((int) (long) (Long) v);
            case UINT16, INT16 -> w.u16((int) (long) (Long) v);
            case UINT32, INT32 -> w.u32((Long) v);
            case UINT64, INT64 -> w.u64((Long) v);
            case FLOAT32 -> w.f32((float) (double) (Double) v);
            case FLOAT64 -> w.f64((Double) v);
            case BOOL -> w.u8((Boolean) v ? 1 : 0);
            case STRING -> string(w, (String) v);
            case ARRAY -> {
                List<?> list = (List<?>) v;
                w.u32(elementType.id()).u64(list.size());
                for (Object o : list) {
                    if (o instanceof GgufValue nested) value(w, nested.type(), nested.elementType(), nested.value());
                    else value(w, elementType, null, o);
                }
            }
        }
    }
}
