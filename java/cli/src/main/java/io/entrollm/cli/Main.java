package io.entrollm.cli;

import io.entrollm.format.FormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/** Entry point of {@code bin/entrollm}. */
@Command(name = "entrollm", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Per-layer quantization and entropy coding of LLM weights, with CPU and CUDA inference.",
        subcommands = {InspectCommand.class, ConvertCommand.class, CompressCommand.class, DecompressCommand.class,
                RunCommand.class, ChatCommand.class, ServeCommand.class, PerplexityCommand.class, ParetoCommand.class, BenchCommand.class, SynthCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns its exit code: 0 success, 1 runtime error, 2 usage error. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** As {@link #execute(String...)}, printing to the given writers (used by tests). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        // the GPU bundle (make dist) leaves the analysis module and its codecs out
        if (present("io.entrollm.analysis.Analyzer")) cli.addSubcommand("analyze", new AnalyzeCommand());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler(Main::argumentError);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            PrintWriter errOut = cmd.getErr();
            // the full command path ("entrollm bench infer"), so the line says which command failed
            errOut.println(cmd.getCommandSpec().qualifiedName() + ": error: " + describe(e));
            if (System.getenv("ENTROLLM_DEBUG") != null) e.printStackTrace(errOut);
            errOut.flush();
            return 1;
        });
        try {
            return cli.execute(args);
        } catch (InternalError | OutOfMemoryError | StackOverflowError e) {
            // picocli hands only Exceptions to the handler above; these Errors are still one line and exit 1
            var parsed = cli.getParseResult();
            String command = "entrollm";
            while (parsed != null && parsed.subcommand() != null) parsed = parsed.subcommand();
            if (parsed != null) command = parsed.commandSpec().qualifiedName();
            err.println(command + ": error: " + describe(e));
            if (System.getenv("ENTROLLM_DEBUG") != null) e.printStackTrace(err);
            err.flush();
            return 1;
        }
    }

    /**
     * picocli's handling of a bad command line (message, suggestions, usage; exit 2), except that a
     * mistyped option is reported as such even when it also leaves a required option missing:
     * {@code --promt hi} says "Unknown option: '--promt'" and suggests {@code --prompt}.
     */
    private static int argumentError(CommandLine.ParameterException ex, String[] args) {
        CommandLine c = ex.getCommandLine();
        PrintWriter err = c.getErr();
        CommandLine.ParameterException shown = ex;
        if (ex instanceof CommandLine.MissingParameterException && !c.getUnmatchedArguments().isEmpty()) {
            shown = new CommandLine.UnmatchedArgumentException(c, c.getUnmatchedArguments());
        }
        err.println(shown.getMessage());
        if (!CommandLine.UnmatchedArgumentException.printSuggestions(shown, err)) c.usage(err);
        err.flush();
        return c.getCommandSpec().exitCodeOnInvalidInput();
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, Main.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** One line that tells the user what went wrong and where. */
    static String describe(Throwable e) {
        if (io.entrollm.io.MappedFile.isMappedReadFault(e)) {
            return io.entrollm.io.MappedFile.describeShrunkFile().orElse("a memory-mapped input file changed while being read (a fault in a mapped read)");
        }
        if (e instanceof NoSuchFileException n) return "no such file or directory: " + n.getFile()
                + (n.getReason() != null ? " (" + n.getReason() + ")" : "");
        if (e instanceof AccessDeniedException a) return "permission denied: " + a.getFile();
        if (e instanceof FileAlreadyExistsException f) return "already exists: " + f.getFile();
        if (e instanceof FormatException || e instanceof IllegalArgumentException || e instanceof io.entrollm.gpu.CudaException) return e.getMessage();
        if (e instanceof OutOfMemoryError) return "out of Java heap memory (set ENTROLLM_JAVA_OPTS=-Xmx...): " + e.getMessage();
        String msg = e.getMessage();
        return (msg == null || msg.isBlank()) ? e.getClass().getSimpleName() : msg;
    }
}
