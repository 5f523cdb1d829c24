package io.entrollm.cli;

import io.entrollm.infer.Generator;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code entrollm run}: generate text, streamed as it is produced. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Generate text from a prompt.")
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = ".entro, model directory or .gguf")
    Path model;

    @Option(names = "--prompt", required = true)
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "64", description = "Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy. Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "0 = no limit. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(names = "--seed", defaultValue = "42", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @picocli.CommandLine.Mixin
    Devices devices;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private int contextFor(LanguageModel lm) {
        return Math.min(lm.config().maxPositionEmbeddings(), lm.tokenizer().encode(prompt).length + maxTokens);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (LanguageModel lm = LanguageModel.load(model);
             // the context Generator will use, and the prompt as the largest forward pass
             LanguageModel.Session session = devices.open(lm, contextFor(lm), Math.max(1, lm.tokenizer().encode(prompt).length), out)) {
            out.print(prompt);
            out.flush();
            List<Integer> generated = new ArrayList<>();
            int[] printed = {0};
            Generator.Result r = session.generate(prompt, maxTokens, new Sampler(temperature, topK, topP, seed), token -> {
                generated.add(token);
                String text = lm.tokenizer().decode(generated.stream().mapToInt(Integer::intValue).toArray(), true);
                // print only complete characters; a token can end inside a UTF-8 sequence
                int end = text.endsWith("\uFFFD") ? text.length() - 1 : text.length();
                if (end > printed[0]) {
                    out.print(text.substring(printed[0], end));
                    out.flush();
                    printed[0] = end;
                }
                return true;
            });
            out.println();
            out.printf("[%s] prompt: %d tokens, %.1f tok/s; generation: %d tokens, %.1f tok/s%s%n", session.device(), r.promptTokens(),
                    r.promptTokensPerSecond(), r.tokens().length, r.generatedTokensPerSecond(), r.stoppedAtEos() ? " (stopped at EOS)" : "");
        }
        return 0;
    }
}
