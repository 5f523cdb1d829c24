package io.entrollm.cli;

import io.entrollm.infer.Generator;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code entrollm run}: generate text, streamed as it is produced. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Generate text from a prompt.")
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = ".entro, model directory or .gguf")
    Path model;

    @Option(names = "--prompt", required = true, description = "Text to continue.")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "64", description = "Tokens to generate at most (fewer at an end-of-sequence token or the model's context). Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @picocli.CommandLine.Mixin
    SamplingOptions sampling;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the run as JSON: prompt, generated text and token ids, "
            + "token counts, tokens/s, why it stopped, device and seed.")
    Path json;

    @picocli.CommandLine.Mixin
    Devices devices;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Arguments are checked before the model is loaded: a typo should not cost a load and a prompt. */
    private void checkArguments() {
        var cli = spec.commandLine();
        if (maxTokens < 1) throw new picocli.CommandLine.ParameterException(cli, "--max-tokens must be at least 1, is " + maxTokens);
        sampling.check(cli, 0);
    }

    @Override
    public Integer call() throws Exception {
        checkArguments();
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try (LanguageModel lm = LanguageModel.load(model)) {
            int[] promptIds = lm.tokenizer().encode(prompt); // once: sizes the session and is what generation starts from
            int promptTokens = promptIds.length, context = lm.config().maxPositionEmbeddings();
            // the context Generator will use, and the prompt as the largest forward pass
            try (LanguageModel.Session session = devices.open(lm, Math.min(context, promptTokens + maxTokens), Math.max(1, promptTokens), out)) {
                if (promptTokens + maxTokens > context) {
                    err.printf("note: the model's context is %d tokens and the prompt takes %d: at most %d of --max-tokens %d can be generated%n",
                            context, promptTokens, Math.max(0, context - promptTokens), maxTokens);
                }
                Sampler sampler = sampling.sampler(0, err);
                out.print(prompt);
                out.flush();
                Generator.Result r = session.generateText(promptIds, maxTokens, sampler, lm.eosTokens(), piece -> {
                    out.print(piece);
                    out.flush();
                });
                out.println();
                out.flush();
                // statistics are about the run, not part of the text: `entrollm run ... > out.txt` keeps only the text
                err.printf("[%s] prompt: %d tokens, %.1f tok/s; generation: %d tokens, %.1f tok/s%s%n", session.device(), r.promptTokens(),
                        r.promptTokensPerSecond(), r.tokens().length, r.generatedTokensPerSecond(), r.stoppedAtEos() ? " (stopped at EOS)" : "");
                if (json != null) JsonReports.write(json, report(session.device(), promptIds, r));
            }
        }
        return 0;
    }

    private com.fasterxml.jackson.databind.node.ObjectNode report(String device, int[] promptIds, Generator.Result r) {
        var root = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        root.put("model", model.toString());
        root.put("device", device);
        root.put("prompt", prompt);
        var ids = root.putArray("prompt_ids");
        for (int id : promptIds) ids.add(id);
        root.put("text", r.text());
        var tokens = root.putArray("tokens");
        for (int id : r.tokens()) tokens.add(id);
        root.put("prompt_tokens", r.promptTokens());
        root.put("generated_tokens", r.tokens().length);
        root.put("prompt_tokens_per_second", r.promptTokensPerSecond());
        if (!Double.isNaN(r.generatedTokensPerSecond())) root.put("generation_tokens_per_second", r.generatedTokensPerSecond());
        // as OpenAI's finish_reason: "stop" at an end-of-sequence token, "length" at --max-tokens or the context
        root.put("finish_reason", r.stoppedAtEos() ? "stop" : "length");
        if (sampling.seedUsed() != null) root.put("seed", sampling.seedUsed());
        return root;
    }
}
