package io.entrollm.format.gguf;

import java.util.Optional;

/** GGUF metadata value types with their on-disk ids ({@code gguf_metadata_value_type}). */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4),
    BOOL(7, 1), STRING(8, -1), ARRAY(9, -1), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    private final int id;
    private final int fixedBytes;

    GgufValueType(int id, int fixedBytes) {
        this.id = id;
        this.fixedBytes = fixedBytes;
    }

    public int id() { return id; }

    /** Size of one value on disk, or -1 for variable-size types (string, array). */
    public int fixedBytes() { return fixedBytes; }

    public boolean isInteger() { return this != FLOAT32 && this != FLOAT64 && this != BOOL && fixedBytes > 0; }

    public static Optional<GgufValueType> fromId(long id) {
        for (GgufValueType t : values()) if (t.id == id) return Optional.of(t);
        return Optional.empty();
    }
}
