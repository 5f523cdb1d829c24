package io.entrollm.infer;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy when {@code temperature <= 0}, else softmax at the
 * temperature, restricted to the {@code topK} most likely tokens (0 = all) and to the smallest set
 * whose probability reaches {@code topP} (1 = all), then a draw from a seeded generator.
 */
public final class Sampler {
    private final float temperature;
    private final int topK;
    private final float topP;
    private final SplittableRandom random;

    /**
     * @param temperature 0 = greedy; else the softmax temperature (finite, > 0)
     * @param topK        sample among the k most likely tokens; 0 = no limit
     * @param topP        the smallest set of tokens whose probability reaches p, in (0, 1]
     * @param seed        seed of the draws: the same seed, the same text
     */
    public Sampler(float temperature, int topK, float topP, long seed) {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature must be finite and >= 0, is " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], is " + topP);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, is " + topK);
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    public static Sampler greedy() { return new Sampler(0, 0, 1, 0); }

    /** Settings by name: {@code Sampler.builder().temperature(0.8f).topP(0.95f).seed(42).build()}; unset ones are greedy's. */
    public static Builder builder() { return new Builder(); }

    /** Builds a {@link Sampler}; the values are checked by {@link #build()}. */
    public static final class Builder {
        private float temperature, topP = 1;
        private int topK;
        private long seed = new java.security.SecureRandom().nextLong();

        private Builder() {}

        public Builder temperature(float t) { temperature = t; return this; }

        public Builder topK(int k) { topK = k; return this; }

        public Builder topP(float p) { topP = p; return this; }

        /** Without it the seed is random (and {@link #seed()} says which). */
        public Builder seed(long s) { seed = s; return this; }

        public long seed() { return seed; }

        public Sampler build() { return new Sampler(temperature, topK, topP, seed); }
    }

    public static int argmax(float[] logits, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (logits[off + i] > logits[off + best]) best = i;
        return best;
    }

    public int sample(float[] logits, int off, int n) {
        if (temperature <= 0) return argmax(logits, off, n);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(logits[off + b], logits[off + a]));
        int keep = topK > 0 ? Math.min(topK, n) : n;
        double max = logits[off + order[0]], sum = 0;
        double[] p = new double[keep];
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp((logits[off + order[i]] - max) / temperature);
            sum += p[i];
        }
        double cumulative = 0;
        int cut = keep;
        for (int i = 0; i < keep; i++) {
            cumulative += p[i] / sum;
            if (cumulative >= topP) { cut = i + 1; break; }
        }
        double total = 0;
        for (int i = 0; i < cut; i++) total += p[i];
        double r = random.nextDouble() * total;
        for (int i = 0; i < cut; i++) {
            r -= p[i];
            if (r <= 0) return order[i];
        }
        return order[cut - 1];
    }
}
