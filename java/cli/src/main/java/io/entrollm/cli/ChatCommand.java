package io.entrollm.cli;

import io.entrollm.infer.Generator;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code entrollm chat}: a multi-turn conversation on standard input, one line a turn, the answer
 * streamed as it is generated. The model's own chat template shapes the conversation; a model without
 * one is told so and continues the transcript as plain text.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, header = "Talk with a model, turn by turn.",
        description = {"Talk with a model: each line on standard input is a user turn, the reply streams as it is generated.",
                "Uses the model's chat template (tokenizer_config.json beside the weights, or GGUF tokenizer.chat_template); "
                        + "without one, the conversation continues as plain text. End with an empty line or end of input."})
final class ChatCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model directory, .gguf or .entro (a .entro file carries the tokenizer_config.json of the model it was made from).")
    Path model;

    @Option(names = "--system", description = "A system prompt, the conversation's first message.")
    String system;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Tokens per reply at most. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @picocli.CommandLine.Mixin
    SamplingOptions sampling;

    /** A conversation samples by default (greedy replies repeat themselves); --temperature 0 makes it greedy. */
    static final float DEFAULT_TEMPERATURE = 0.7f;

    @Option(names = "--ctx", defaultValue = "4096", description = "Context in tokens (at most the model's); older turns are dropped to fit. Default: ${DEFAULT-VALUE}.")
    int ctx;

    @Option(names = "--show-prompt", description = "Print each rendered prompt to stderr (to check a template).")
    boolean showPrompt;

    @picocli.CommandLine.Mixin
    Devices devices;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        var cli = spec.commandLine();
        if (maxTokens < 1) throw new picocli.CommandLine.ParameterException(cli, "--max-tokens must be at least 1, is " + maxTokens);
        sampling.check(cli, DEFAULT_TEMPERATURE);
        if (ctx < 16) throw new picocli.CommandLine.ParameterException(cli, "--ctx must be at least 16, is " + ctx);
        PrintWriter out = cli.getOut(), err = cli.getErr();
        boolean interactive = System.console() != null && System.console().isTerminal();
        try (LanguageModel lm = LanguageModel.load(model)) {
            Optional<ChatTemplate> template = ChatTemplate.of(lm.source());
            if (template.isEmpty()) {
                err.println("note: " + model + " has no chat template (tokenizer_config.json's chat_template or GGUF tokenizer.chat_template);"
                        + " the conversation continues as plain text");
            }
            Sampler sampler = sampling.sampler(DEFAULT_TEMPERATURE, err);
            int context = Math.min(ctx, lm.config().maxPositionEmbeddings());
            Set<Integer> stop = ChatTemplate.stopTokens(lm, template);
            List<ChatTemplate.Message> messages = new ArrayList<>();
            if (system != null) messages.add(new ChatTemplate.Message("system", system));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            try (LanguageModel.Session session = devices.open(lm, context, context, out)) {
                while (true) {
                    if (interactive) {
                        out.print("> ");
                        out.flush();
                    }
                    String line = in.readLine();
                    if (line == null || line.isBlank()) break;
                    messages.add(new ChatTemplate.Message("user", line));
                    int[] prompt = fit(lm, template, messages, context, err);
                    if (prompt == null) {
                        messages.removeLast();
                        continue;
                    }
                    Generator.Result r = session.generateText(prompt, Math.min(maxTokens, context - prompt.length), sampler, stop, piece -> {
                        out.print(piece);
                        out.flush();
                    });
                    out.println();
                    out.flush();
                    messages.add(new ChatTemplate.Message("assistant", r.text().strip()));
                    if (interactive) err.printf("[%d tokens, %.1f tok/s]%n", r.tokens().length, r.generatedTokensPerSecond());
                }
            }
        }
        return 0;
    }

    /** The prompt for the conversation so far, dropping the oldest turns (never the system prompt) until it fits; null if one turn cannot. */
    private int[] fit(LanguageModel lm, Optional<ChatTemplate> template, List<ChatTemplate.Message> messages, int context, PrintWriter err) {
        while (true) {
            String rendered = template.isPresent() ? template.get().render(messages, true) : transcript(messages);
            if (showPrompt) err.println("[prompt]\n" + rendered + "\n[/prompt]");
            // a template writes its own BOS and special markers: encode it as it is
            int[] ids = template.isPresent() ? lm.tokenizer().encodeRaw(rendered) : lm.tokenizer().encode(rendered);
            if (ids.length + 1 <= context) return ids;
            int first = !messages.isEmpty() && messages.getFirst().role().equals("system") ? 1 : 0;
            if (messages.size() - first <= 1) {
                err.println("note: that message alone (" + ids.length + " tokens) does not fit the context of " + context + " tokens; not sent");
                return null;
            }
            messages.remove(first); // the oldest turn goes first
        }
    }

    /** Without a template: the conversation as plain text, each turn on its own line. */
    private static String transcript(List<ChatTemplate.Message> messages) {
        StringBuilder b = new StringBuilder();
        for (ChatTemplate.Message m : messages) b.append(m.content()).append(m.role().equals("user") ? "\n" : "\n\n");
        return b.toString();
    }
}
