package io.entrollm.infer;

import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.tokenizer.ByteLevelBpeTokenizer;
import io.entrollm.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The Java API entry point: a model loaded from a .entro file, a Hugging Face directory or a GGUF
 * file, with its tokenizer. Sessions run it: the CPU reference here, the GPU path from the CUDA module
 * ({@code io.entrollm.gpu.GpuSessions}).
 *
 * <pre>{@code
 * try (LanguageModel lm = LanguageModel.load(Path.of("model.entro"));
 *      LanguageModel.Session s = lm.openCpuSession()) {
 *     Generator.Result r = s.generateText("Fellow-Citizens", 32, Sampler.greedy(), System.out::print);
 *     System.out.printf("%n%.1f tokens/s%n", r.generatedTokensPerSecond());
 * }
 * }</pre>
 */
public final class LanguageModel implements AutoCloseable {
    private final ModelSource source;
    private final Tokenizer tokenizer;

    private LanguageModel(ModelSource source, Tokenizer tokenizer) {
        this.source = source;
        this.tokenizer = tokenizer;
    }

    /**
     * Opens a model: a {@code .entro} file, a Hugging Face directory (safetensors, config.json, tokenizer.json),
     * a {@code .safetensors} file beside those, or a GGUF file. Weights are memory-mapped; nothing is
     * computed until a session is opened.
     *
     * @throws io.entrollm.format.FormatException if a file is truncated, corrupt, or not a supported model
     *         (the message names the file and, where there is one, the tensor)
     * @throws IOException if a file cannot be read
     */
    public static LanguageModel load(Path path) throws IOException {
        ModelSource source = ModelSources.openHuggingFace(path);
        try {
            ModelConfig config = source.config().orElseThrow(() -> new io.entrollm.format.FormatException(path,
                    source.whyNoConfig().orElse("no model config (a config.json beside the weights, or GGUF model metadata)")));
            Tokenizer tokenizer = tokenizerOf(source);
            // the tokenizer's JSON tree (tens of MB for a 50k vocabulary with its merges) is garbage now: collect it
            // before the weights are decoded, so that it does not add to the peak memory of every run (BENCHMARKS.md)
            System.gc();
            if (tokenizer.vocabSize() > config.vocabSize()) {
                throw new io.entrollm.format.FormatException(source.tokenizerOrigin(), "the tokenizer defines token id "
                        + (tokenizer.vocabSize() - 1) + " but the model's vocabulary has " + config.vocabSize() + " entries (vocab_size)");
            }
            return new LanguageModel(source, tokenizer);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /** tokenizer.json when the source has one, else a GGUF file's tokenizer.ggml.* vocabulary. */
    private static Tokenizer tokenizerOf(ModelSource source) {
        if (source.tokenizerJson().isPresent()) return ByteLevelBpeTokenizer.fromJson(source.tokenizerJson().get(), source.tokenizerOrigin());
        return source.gguf().map(io.entrollm.tokenizer.GgufTokenizers::fromMetadata).orElseThrow(() -> new io.entrollm.format.FormatException(
                source.path(), "carries no tokenizer (no tokenizer.json beside the weights)"));
    }

    /** The model's hyper-parameters (from config.json, GGUF metadata, or the .entro directory). */
    public ModelConfig config() { return source.config().orElseThrow(); }

    /** Text to token ids and back, as the model was trained with. */
    public Tokenizer tokenizer() { return tokenizer; }

    /** The files behind the model: tensors in their stored form, config, tokenizer. */
    public ModelSource source() { return source; }

    /** The token ids that end a generation (the config's end-of-sequence ids). */
    public Set<Integer> eosTokens() { return new HashSet<>(config().eosTokenIds()); }

    /** A CPU session on every core, computing from the stored form of the weights. */
    public Session openCpuSession() { return openCpuSession(0); }

    /** A CPU session on {@code threads} cores (0: all), computing from the stored form of the weights. */
    public Session openCpuSession(int threads) { return new Session(new CpuCausalLm(LlamaWeights.loadStored(source), threads)); }

    /** A CPU session on float32 copies of every weight: the reference the other paths are checked against. */
    public Session openReferenceCpuSession() { return new Session(new CpuCausalLm(LlamaWeights.load(source))); }

    /** A session on another implementation (the GPU module supplies one); the session closes it. */
    public Session openSession(CausalLm model) { return new Session(model); }

    @Override
    public void close() { source.close(); }

    /** Runs the model; close it to release its weights. */
    public final class Session implements AutoCloseable {
        private CausalLm model;

        private Session(CausalLm model) { this.model = model; }

        /** Where it runs: {@code cpu}, or the GPU's name. */
        public String device() { return live().device(); }

        /**
         * Generates up to {@code maxTokens} after {@code prompt}, stopping at an end-of-sequence token;
         * {@code listener} sees each token id as it comes (return false to stop). The result carries the
         * generated text (special tokens left out).
         */
        public Generator.Result generate(String prompt, int maxTokens, Sampler sampler, Generator.TokenListener listener) {
            return stream(tokenizer.encode(prompt), maxTokens, sampler, eosTokens(), listener, piece -> {});
        }

        /**
         * As {@link #generate(String, int, Sampler, Generator.TokenListener)}, handing {@code onText} the text
         * as it completes: a character split across tokens arrives whole, once its last token is generated.
         */
        public Generator.Result generateText(String prompt, int maxTokens, Sampler sampler, java.util.function.Consumer<String> onText) {
            return generateText(tokenizer.encode(prompt), maxTokens, sampler, eosTokens(), onText);
        }

        /** As {@link #generateText(String, int, Sampler, java.util.function.Consumer)}, from prompt ids, stopping at {@code stopTokens}. */
        public Generator.Result generateText(int[] promptIds, int maxTokens, Sampler sampler, Set<Integer> stopTokens,
                                             java.util.function.Consumer<String> onText) {
            return stream(promptIds, maxTokens, sampler, stopTokens, token -> true, onText);
        }

        /** Generation with its text decoded as it comes: each token to {@code tokens}, each completed piece of text to {@code text}. */
        private Generator.Result stream(int[] promptIds, int maxTokens, Sampler sampler, Set<Integer> stopTokens,
                                        Generator.TokenListener tokens, java.util.function.Consumer<String> text) {
            io.entrollm.tokenizer.TextStream decoded = new io.entrollm.tokenizer.TextStream(tokenizer, true);
            Generator.Result r = generate(promptIds, maxTokens, sampler, stopTokens, token -> {
                String piece = decoded.push(token);
                if (!piece.isEmpty()) text.accept(piece);
                return tokens.onToken(token);
            });
            String rest = decoded.finish();
            if (!rest.isEmpty()) text.accept(rest);
            return r.withText(decoded.text());
        }

        /**
         * Generation from prompt token ids, stopping at {@code stopTokens} (benchmarks pass exact prompt
         * lengths and no stop tokens, so every run generates {@code maxTokens}).
         */
        public Generator.Result generate(int[] promptIds, int maxTokens, Sampler sampler, Set<Integer> stopTokens,
                                         Generator.TokenListener listener) {
            return Generator.generate(live(), promptIds, maxTokens, sampler, stopTokens, listener);
        }

        /** Log-probabilities (natural log) of tokens 1..n-1 of {@code tokens} given their prefixes. */
        public double[] logLikelihoods(int[] tokens) {
            CausalLm m = live();
            int vocab = m.config().vocabSize();
            m.startSequence(tokens.length);
            float[] logits = m.forward(tokens, 0, tokens.length);
            double[] out = new double[tokens.length - 1];
            for (int t = 0; t + 1 < tokens.length; t++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int i = 0; i < vocab; i++) max = Math.max(max, logits[t * vocab + i]);
                for (int i = 0; i < vocab; i++) sum += Math.exp(logits[t * vocab + i] - max);
                out[t] = logits[t * vocab + tokens[t + 1]] - max - Math.log(sum);
            }
            return out;
        }

        /** Perplexity of a token stream in windows of {@code ctx} tokens (the protocol of the README); progress per window, or null. */
        public Perplexity.Result perplexity(int[] stream, int ctx, Perplexity.Progress progress) {
            return Perplexity.evaluate(live(), stream, ctx, progress);
        }

        private CausalLm live() {
            if (model == null) throw new IllegalStateException("session is closed");
            return model;
        }

        @Override
        public void close() {
            if (model != null) model.close();
            model = null;
        }
    }
}
