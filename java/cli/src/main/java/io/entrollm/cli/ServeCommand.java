package io.entrollm.cli;

import io.entrollm.infer.LanguageModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code entrollm serve}: the OpenAI-compatible HTTP API over one model, until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true, header = "Serve a model over the OpenAI HTTP API.",
        description = "Serve one model over an OpenAI-compatible HTTP API: /v1/chat/completions and /v1/completions (streaming with "
                + "server-sent events when asked), /v1/models, /health. Requests are queued and served one at a time. Stop with Ctrl-C.")
final class ServeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = ".entro, model directory or .gguf")
    Path model;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port (0: any free one, printed). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (0.0.0.0: every interface). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(names = "--ctx", defaultValue = "4096", description = "Context in tokens (at most the model's). Default: ${DEFAULT-VALUE}.")
    int ctx;

    @Option(names = "--max-tokens", defaultValue = "256", description = "Tokens per reply when a request does not say. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @picocli.CommandLine.Mixin
    Devices devices;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Set by tests to stop a running server; a real one stops when the process is interrupted. */
    static volatile CountDownLatch stop = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        var cli = spec.commandLine();
        if (port < 0 || port > 65535) throw new picocli.CommandLine.ParameterException(cli, "--port must be 0..65535, is " + port);
        if (ctx < 16) throw new picocli.CommandLine.ParameterException(cli, "--ctx must be at least 16, is " + ctx);
        if (maxTokens < 1) throw new picocli.CommandLine.ParameterException(cli, "--max-tokens must be at least 1, is " + maxTokens);
        try (LanguageModel lm = LanguageModel.load(model)) {
            int context = Math.min(ctx, lm.config().maxPositionEmbeddings());
            var template = ChatTemplate.of(lm.source());
            String id = model.toAbsolutePath().normalize().getFileName().toString();
            try (LanguageModel.Session session = devices.open(lm, context, context, cli.getOut());
                 OpenAiServer server = new OpenAiServer(lm, session, template, id, context, maxTokens, host, port)) {
                cli.getErr().printf("serving %s (%s, context %d, %s) on http://%s:%d/v1%n", id, session.device(), context,
                        template.isPresent() ? "chat template from " + template.get().origin().getFileName() : "no chat template: chat requests are plain text",
                        host, server.port());
                cli.getErr().flush();
                stop.await();
            }
        }
        return 0;
    }
}
