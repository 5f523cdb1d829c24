package io.entrollm.tensor;

import java.util.Optional;

/**
 * Element types of tensors as they lie in a file. Every type carries its explicit on-disk ids (the
 * safetensors dtype string and the GGML type id) and its exact block geometry, so byte sizes are
 * computed, never guessed. Enum ordinals are never written to disk.
 */
public enum DType {
    //   safetensors, ggml id, elements per block, bytes per block, floating point
    F32("F32", 0, 1, 4, true),
    F16("F16", 1, 1, 2, true),
    BF16("BF16", 30, 1, 2, true),
    F64("F64", 28, 1, 8, true),
    I8("I8", 24, 1, 1, false),
    U8("U8", -1, 1, 1, false),
    I16("I16", 25, 1, 2, false),
    U16("U16", -1, 1, 2, false),
    I32("I32", 26, 1, 4, false),
    U32("U32", -1, 1, 4, false),
    I64("I64", 27, 1, 8, false),
    BOOL("BOOL", -1, 1, 1, false),
    /** GGML Q8_0: blocks of 32 weights, an f16 scale d then 32 int8 q; w = d * q. */
    Q8_0(null, 8, 32, 34, false),
    /** GGML Q4_0: blocks of 32 weights, an f16 scale d then 16 bytes of nibbles; w = d * (q - 8). */
    Q4_0(null, 2, 32, 18, false),
    /** GGML Q4_1: blocks of 32 weights, f16 scale d, f16 minimum m, 16 bytes of nibbles; w = d * q + m. */
    Q4_1(null, 3, 32, 20, false),
    /** GGML Q5_0: blocks of 32, f16 d, 4 bytes of fifth bits, 16 bytes of nibbles; w = d * (q - 16). */
    Q5_0(null, 6, 32, 22, false),
    /** GGML Q5_1: blocks of 32, f16 d and m, 4 bytes of fifth bits, 16 bytes of nibbles; w = d * q + m. */
    Q5_1(null, 7, 32, 24, false),
    // The k-quants: super-blocks of 256 weights in sub-blocks with quantized scales (GgmlDequant has the layouts).
    /** GGML Q2_K: 16 bytes of 4-bit scale/min pairs, 64 bytes of 2-bit q, f16 d, f16 dmin. */
    Q2_K(null, 10, 256, 84, false),
    /** GGML Q3_K: 32 bytes of high bits, 64 bytes of low 2 bits, 12 bytes of 6-bit scales, f16 d. */
    Q3_K(null, 11, 256, 110, false),
    /** GGML Q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles. */
    Q4_K(null, 12, 256, 144, false),
    /** GGML Q5_K: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 32 bytes of fifth bits, 128 bytes of nibbles. */
    Q5_K(null, 13, 256, 176, false),
    /** GGML Q6_K: 128 bytes of low nibbles, 64 bytes of high 2 bits, 16 int8 scales, f16 d. */
    Q6_K(null, 14, 256, 210, false),
    /** GGML Q8_K: f32 d, 256 int8 q, 16 int16 block sums (llama.cpp's activation type; rare in files). */
    Q8_K(null, 15, 256, 292, false);

    private final String safetensorsName;
    private final int ggmlId;
    private final int blockElements;
    private final int blockBytes;
    private final boolean floatingPoint;

    DType(String safetensorsName, int ggmlId, int blockElements, int blockBytes, boolean floatingPoint) {
        this.safetensorsName = safetensorsName;
        this.ggmlId = ggmlId;
        this.blockElements = blockElements;
        this.blockBytes = blockBytes;
        this.floatingPoint = floatingPoint;
    }

    public Optional<String> safetensorsName() { return Optional.ofNullable(safetensorsName); }

    /** GGML type id, or -1 when GGUF has no such type. */
    public int ggmlId() { return ggmlId; }

    public int blockElements() { return blockElements; }

    public int blockBytes() { return blockBytes; }

    public boolean isFloatingPoint() { return floatingPoint; }

    public boolean isBlockQuantized() { return blockElements > 1; }

    /**
     * Exact byte size of {@code elements} values of this type.
     *
     * @throws IllegalArgumentException if the count is not a whole number of blocks
     * @throws ArithmeticException on overflow
     */
    public long byteSize(long elements) {
        if (elements < 0) throw new IllegalArgumentException("negative element count " + elements);
        if (elements % blockElements != 0) {
            throw new IllegalArgumentException(
                    elements + " elements is not a whole number of " + this + " blocks of " + blockElements);
        }
        return Math.multiplyExact(elements / blockElements, (long) blockBytes);
    }

    public static Optional<DType> fromSafetensors(String name) {
        for (DType t : values()) {
            if (name.equals(t.safetensorsName)) return Optional.of(t);
        }
        return Optional.empty();
    }

    public static Optional<DType> fromGgml(long id) {
        for (DType t : values()) {
            if (t.ggmlId >= 0 && t.ggmlId == id) return Optional.of(t);
        }
        return Optional.empty();
    }

    /** Parses a user-facing name such as {@code bf16} or {@code F32}. */
    public static DType parse(String name) {
        for (DType t : values()) {
            if (t.name().equalsIgnoreCase(name)) return t;
        }
        throw new IllegalArgumentException("unknown dtype '" + name + "'");
    }
}
