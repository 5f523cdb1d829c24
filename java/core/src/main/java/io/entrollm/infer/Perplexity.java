package io.entrollm.infer;

/**
 * Perplexity by the protocol of reference.json: the token stream is cut into non-overlapping
 * windows of {@code ctx} tokens (the last, shorter one included); each window is run from an empty
 * cache and scores its tokens 1..n-1 given the prefix inside the window; ppl = exp(total NLL / scored).
 */
public final class Perplexity {
    public record Result(long tokens, long scored, double meanNll, double perplexity) {}

    /** Called after each window. */
    public interface Progress {
        void windowDone(int done, int total);

        /** As {@link #windowDone(int, int)}, with the perplexity of the windows so far (NaN before any token is scored). */
        default void windowDone(int done, int total, double perplexitySoFar) { windowDone(done, total); }
    }

    private Perplexity() {}

    public static Result evaluate(CausalLm model, int[] stream, int ctx, Progress progress) {
        if (ctx < 2) throw new IllegalArgumentException("--ctx must be at least 2");
        int vocab = model.config().vocabSize();
        model.startSequence(ctx);
        double nll = 0;
        long scored = 0;
        int windows = (stream.length + ctx - 1) / ctx;
        for (int wdx = 0; wdx < windows; wdx++) {
            int from = wdx * ctx, n = Math.min(ctx, stream.length - from);
            if (n < 2) { if (progress != null) progress.windowDone(wdx + 1, windows, scored == 0 ? Double.NaN : Math.exp(nll / scored)); continue; }
            int[] window = java.util.Arrays.copyOfRange(stream, from, from + n);
            float[] logits = model.forward(window, 0, n);
            for (int t = 0; t + 1 < n; t++) {
                int off = t * vocab;
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < vocab; i++) max = Math.max(max, logits[off + i]);
                double sum = 0;
                for (int i = 0; i < vocab; i++) sum += Math.exp(logits[off + i] - max);
                nll += max + Math.log(sum) - logits[off + window[t + 1]];
                scored++;
            }
            if (progress != null) progress.windowDone(wdx + 1, windows, Math.exp(nll / scored));
        }
        double mean = scored == 0 ? Double.NaN : nll / scored;
        return new Result(stream.length, scored, mean, Math.exp(mean));
    }
}
