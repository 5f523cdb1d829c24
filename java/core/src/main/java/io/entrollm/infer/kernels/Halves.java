package io.entrollm.infer.kernels;

/**
 * Activations split into even and odd positions per token ({@code x[t][2k]} and {@code x[t][2k+1]}),
 * for kernels whose stored form interleaves two weights in one lane (nibbles, bf16 pairs).
 */
record Halves(float[] even, float[] odd) {
    /** Splits {@code tokens} rows of {@code cols} (even) activations. */
    static Halves of(float[] x, int tokens, int cols) {
        int half = cols / 2;
        float[] even = new float[tokens * half], odd = new float[tokens * half];
        for (int t = 0; t < tokens; t++) {
            for (int k = 0; k < half; k++) {
                even[t * half + k] = x[t * cols + 2 * k];
                odd[t * half + k] = x[t * cols + 2 * k + 1];
            }
        }
        return new Halves(even, odd);
    }
}
