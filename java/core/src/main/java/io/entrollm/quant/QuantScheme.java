package io.entrollm.quant;

/**
 * What the user asks for. {@link #MIXED} and {@link #AUTO} are resolved per tensor into an
 * {@link AppliedScheme}, which is what the container records.
 */
public enum QuantScheme {
    /** Affine: q = round((w - min) / s), s = (max - min) / (2^b - 1). */
    ASYM,
    /** Symmetric: q = round(w / s), s = max|w| / (2^(b-1) - 1), q in [-(2^(b-1)-1), 2^(b-1)-1]. */
    SYM,
    /** EntroLLM's rule: single-signed tensors get unsigned scale-only quantization, others asym. */
    MIXED,
    /** Per tensor, whichever of asym, sym (and unsigned, for single-signed tensors) has the lowest MSE. */
    AUTO;

    public static QuantScheme parse(String s) {
        for (QuantScheme q : values()) if (q.name().equalsIgnoreCase(s)) return q;
        throw new IllegalArgumentException("unknown scheme '" + s + "' (asym, sym, mixed, auto)");
    }
}
