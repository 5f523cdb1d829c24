package io.entrollm.infer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Prompt prefill, then one token at a time until an end-of-sequence token or the token limit. */
public final class Generator {
    /** Receives each generated token as it is produced; return false to stop. */
    public interface TokenListener {
        boolean onToken(int token);
    }

    /**
     * What a generation did, with timings in nanoseconds. The first token comes from the prompt's
     * logits (prefill time); each later one costs one single-token forward pass ({@code decodeSteps}
     * of them in {@code generateNanos}).
     */
    /** @param text the generated text, when generated from a text prompt by {@link LanguageModel.Session}; else null */
    public record Result(int[] tokens, int promptTokens, long prefillNanos, long generateNanos, int decodeSteps, boolean stoppedAtEos,
                         String text) {
        /** The same result with its text. */
        public Result withText(String text) {
            return new Result(tokens, promptTokens, prefillNanos, generateNanos, decodeSteps, stoppedAtEos, text);
        }

        public double promptTokensPerSecond() { return promptTokens / (prefillNanos / 1e9); }

        /** Single-token forward passes per second (llama-bench's tg), NaN when there were none. */
        public double generatedTokensPerSecond() { return decodeSteps == 0 ? Double.NaN : decodeSteps / (generateNanos / 1e9); }
    }

    private Generator() {}

    public static Result generate(CausalLm model, int[] prompt, int maxTokens, Sampler sampler, Set<Integer> eos,
                                  TokenListener listener) {
        if (prompt.length == 0) throw new IllegalArgumentException("empty prompt");
        int capacity = Math.min(model.config().maxPositionEmbeddings(), prompt.length + maxTokens);
        if (prompt.length >= capacity) throw new IllegalArgumentException("prompt of " + prompt.length + " tokens leaves no room in a context of " + capacity);
        model.startSequence(capacity);
        int vocab = model.config().vocabSize();
        long t0 = System.nanoTime();
        float[] logits = model.forward(prompt, 0, 1);
        long t1 = System.nanoTime();
        List<Integer> out = new ArrayList<>();
        int pos = prompt.length;
        boolean eosSeen = false;
        int steps = 0;
        while (out.size() < maxTokens) {
            int next = sampler.sample(logits, 0, vocab);
            if (eos.contains(next)) { eosSeen = true; break; }
            out.add(next);
            if (listener != null && !listener.onToken(next)) break;
            if (out.size() == maxTokens || pos + 1 > capacity) break;
            logits = model.forward(new int[] {next}, pos++, 1);
            steps++;
        }
        long t2 = System.nanoTime();
        return new Result(out.stream().mapToInt(Integer::intValue).toArray(), prompt.length, t1 - t0, t2 - t1, steps, eosSeen, null);
    }
}
