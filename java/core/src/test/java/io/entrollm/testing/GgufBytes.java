package io.entrollm.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Hand-built GGUF bytes for tests that need fields a correct writer would never produce (bad
 * versions, misaligned offsets, unknown types). Little-endian, appended in order.
 */
public final class GgufBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public GgufBytes u32(long v) { return put(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v)); }

    public GgufBytes u64(long v) { return put(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v)); }

    public GgufBytes string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        out.writeBytes(b);
        return this;
    }

    public GgufBytes header(long version, long tensors, long kvs) { return u32(0x46554747).u32(version).u64(tensors).u64(kvs); }

    /** A tensor info: name, dims in GGUF order (ne[0] first), ggml type id, offset. */
    public GgufBytes tensorInfo(String name, long[] ne, long type, long offset) {
        string(name).u32(ne.length);
        for (long d : ne) u64(d);
        return u32(type).u64(offset);
    }

    public GgufBytes padTo(int alignment) {
        while (out.size() % alignment != 0) out.write(0);
        return this;
    }

    public GgufBytes zeros(int n) {
        out.writeBytes(new byte[n]);
        return this;
    }

    public int size() { return out.size(); }

    public byte[] bytes() { return out.toByteArray(); }

    private GgufBytes put(ByteBuffer b) {
        out.writeBytes(b.array());
        return this;
    }
}
