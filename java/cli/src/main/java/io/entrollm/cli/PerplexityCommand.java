package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.infer.EvalText;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.Perplexity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code entrollm perplexity}: the reference.json protocol on a file or a directory of documents. */
@Command(name = "perplexity", mixinStandardHelpOptions = true, header = "Perplexity of a model over a text.",
        description = {"Perplexity over non-overlapping windows of --ctx tokens; each window scores its tokens 1..n-1.",
                "A file is one document (stripped, cut to --max-chars, BOS + ids + EOS); a directory is its *.txt files in name order."})
final class PerplexityCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = ".entro, model directory or .gguf")
    Path model;

    @Option(names = "--text", required = true, paramLabel = "FILE|DIR", description = "The text to score: a file, or a folder of *.txt files.")
    Path text;

    @Option(names = "--max-chars", defaultValue = "0", description = "Cut each document to N characters (0 = whole). Default: ${DEFAULT-VALUE}.")
    int maxChars;

    @Option(names = "--ctx", defaultValue = "256", description = "Window length in tokens. Default: ${DEFAULT-VALUE}.")
    int ctx;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON.")
    Path json;

    @picocli.CommandLine.Mixin
    Devices devices;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (ctx < 2) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--ctx must be at least 2 (a window scores its tokens 1..n-1), is " + ctx);
        try (LanguageModel lm = LanguageModel.load(model); LanguageModel.Session session = devices.open(lm, ctx, ctx, out)) {
            int[] stream = tokens(lm, model, text, maxChars);
            long t0 = System.nanoTime();
            Perplexity.Result r = score(session, stream, ctx, "perplexity", spec.commandLine().getErr());
            double seconds = (System.nanoTime() - t0) / 1e9;
            out.printf("tokens: %d, scored: %d, mean NLL: %.6f, perplexity: %.4f (%s, ctx %d, %.1f s, %.0f tok/s)%n", r.tokens(), r.scored(),
                    r.meanNll(), r.perplexity(), session.device(), ctx, seconds, r.tokens() / seconds);
            if (json != null) {
                ObjectNode o = new ObjectMapper().createObjectNode();
                o.put("model", model.toString()).put("text", text.toString()).put("ctx", ctx).put("max_chars", maxChars)
                        .put("device", session.device()).put("tokens", r.tokens()).put("scored", r.scored())
                        .put("nll", r.meanNll()).put("ppl", r.perplexity()).put("seconds", seconds);
                JsonReports.write(json, o);
            }
        }
        return 0;
    }

    /** The protocol's token stream of {@code text} for {@code lm} (BOS + ids + EOS per document); {@code model} names it in errors. */
    static int[] tokens(LanguageModel lm, Path model, Path text, int maxChars) throws java.io.IOException {
        int eos = lm.config().eosTokenIds().isEmpty() ? -1 : lm.config().eosTokenIds().get(0);
        if (eos < 0) throw new IllegalArgumentException(model + ": the config names no eos_token_id");
        return EvalText.tokens(text, lm.tokenizer(), eos, maxChars);
    }

    /** Scores {@code stream} in windows of {@code ctx}, a progress bar named {@code task} (with the running perplexity) on {@code err}. */
    static Perplexity.Result score(LanguageModel.Session session, int[] stream, int ctx, String task, PrintWriter err) {
        try (Progress bar = Progress.start(task, "windows", (stream.length + ctx - 1) / ctx, err)) {
            return session.perplexity(stream, ctx, new Perplexity.Progress() {
                @Override public void windowDone(int done, int total) { bar.stepTo(done); }

                @Override public void windowDone(int done, int total, double soFar) {
                    bar.stepTo(done, Double.isNaN(soFar) ? "" : String.format(java.util.Locale.ROOT, "ppl %.4f", soFar));
                }
            });
        }
    }
}
