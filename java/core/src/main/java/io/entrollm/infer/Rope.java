package io.entrollm.infer;

import io.entrollm.model.ModelConfig;
import io.entrollm.model.RopeScaling;

/**
 * Rotary position embedding as Hugging Face applies it ({@code rotate_half}: dimension i pairs with
 * i + d/2), with the inverse frequencies of transformers' default, linear and llama3 rope types.
 */
public final class Rope {
    private final int headDim;
    private final double[] invFreq;

    public Rope(ModelConfig c) {
        headDim = c.headDim();
        invFreq = new double[headDim / 2];
        for (int i = 0; i < invFreq.length; i++) invFreq[i] = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / headDim);
        RopeScaling s = c.ropeScaling();
        if (s == null) return;
        switch (s.type()) {
            case "linear" -> { for (int i = 0; i < invFreq.length; i++) invFreq[i] /= s.factor(); }
            case "llama3" -> {
                double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
                double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
                for (int i = 0; i < invFreq.length; i++) {
                    double wavelen = 2 * Math.PI / invFreq[i];
                    if (wavelen > lowWavelen) {
                        invFreq[i] /= s.factor();
                    } else if (wavelen >= highWavelen) {
                        double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                        invFreq[i] = (1 - smooth) * invFreq[i] / s.factor() + smooth * invFreq[i];
                    }
                }
            }
            default -> throw new IllegalArgumentException("RoPE scaling type '" + s.type() + "' is not supported (linear, llama3 are)");
        }
    }

    /** Why {@code s} cannot be applied (an unsupported type, or parameters that give no finite frequencies), or empty if it can. */
    static java.util.Optional<String> problem(io.entrollm.model.RopeScaling s) {
        if (s == null) return java.util.Optional.empty();
        boolean ok = switch (s.type()) {
            case "linear" -> s.factor() > 0 && Double.isFinite(s.factor());
            case "llama3" -> s.factor() > 0 && Double.isFinite(s.factor()) && s.lowFreqFactor() > 0 && Double.isFinite(s.lowFreqFactor())
                    && Double.isFinite(s.highFreqFactor()) && s.highFreqFactor() > s.lowFreqFactor() && s.originalMaxPositionEmbeddings() > 0;
            default -> false;
        };
        if (!s.type().equals("linear") && !s.type().equals("llama3")) {
            return java.util.Optional.of("RoPE scaling type '" + s.type() + "' is not supported (linear, llama3 are)");
        }
        return ok ? java.util.Optional.empty() : java.util.Optional.of("RoPE scaling " + s + " has parameters out of range");
    }

    /** The inverse frequencies, head_dim / 2 of them (scaling applied), for the GPU kernel. */
    public double[] inverseFrequencies() { return invFreq.clone(); }

    /** Rotates {@code heads} heads of {@code x} starting at {@code off}, for position {@code pos}. */
    public void apply(float[] x, int off, int heads, int pos) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            double angle = pos * invFreq[i];
            float cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
            for (int h = 0; h < heads; h++) {
                int base = off + h * headDim;
                float x0 = x[base + i], x1 = x[base + i + half];
                x[base + i] = x0 * cos - x1 * sin;
                x[base + i + half] = x1 * cos + x0 * sin;
            }
        }
    }
}
