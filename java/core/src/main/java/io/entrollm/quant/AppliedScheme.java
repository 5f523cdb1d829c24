package io.entrollm.quant;

import java.util.Optional;

/** The scheme actually applied to one tensor, with its on-disk id. */
public enum AppliedScheme {
    ASYM(1), SYM(2),
    /** Scale-only unsigned quantization of a single-signed tensor: w = sign * q * s. */
    UNSIGNED(3);

    private final int id;

    AppliedScheme(int id) { this.id = id; }

    public int id() { return id; }

    public static Optional<AppliedScheme> fromId(int id) {
        for (AppliedScheme s : values()) if (s.id == id) return Optional.of(s);
        return Optional.empty();
    }
}
