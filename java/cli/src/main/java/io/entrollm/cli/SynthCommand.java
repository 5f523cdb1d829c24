package io.entrollm.cli;

import io.entrollm.synthetic.SyntheticModels;
import io.entrollm.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code entrollm synth}: writes a model with a real model's shapes and random weights (see
 * {@link SyntheticModels}) as a Hugging Face directory, for benchmarks at real sizes.
 */
@Command(name = "synth", mixinStandardHelpOptions = true, header = "Write a synthetic model with the shapes of a real one.",
        description = {"Write a synthetic model: the shapes of a real one (smollm-1.7b, phi-3-mini, mistral-7b), values resampled per role",
                "from a trained donor (--like): sizes and matmuls are the real model's, entropy is the donor's."})
final class SynthCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PRESET", description = "smollm-1.7b, phi-3-mini, mistral-7b or tiny; --list shows their shapes.", arity = "0..1")
    String preset;

    @Parameters(index = "1", paramLabel = "OUT_DIR", arity = "0..1", description = "Directory to write (must not exist or be empty).")
    Path out;

    @Option(names = "--layers", description = "Fewer decoder layers than the real model (default: the real count).")
    Integer layers;

    @Option(names = "--dtype", defaultValue = "bf16", description = "bf16, f16 or f32. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the resampling: the same seed writes the same bytes. Default: ${DEFAULT-VALUE}.") long seed;

    @Option(names = "--like", paramLabel = "MODEL", defaultValue = "test-models/sotu-tiny",
            description = "Trained model whose per-role value distributions are resampled. Default: ${DEFAULT-VALUE} (the bundled model, found from any directory).")
    Path like;

    @Option(names = "--list", description = "List the presets and exit.") boolean list;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** 7.24 B, 0.23 M. */
    static String parameters(long n) {
        return n >= 1e9 ? String.format(Locale.ROOT, "%.2f B", n / 1e9) : String.format(Locale.ROOT, "%.2f M", n / 1e6);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        if (list) {
            o.println("| preset | shapes of | layers | hidden | intermediate | heads / kv heads | vocab | parameters |");
            o.println("|---|---|---:|---:|---:|---|---:|---:|");
            for (SyntheticModels.Preset p : SyntheticModels.PRESETS.values().stream().sorted(java.util.Comparator.comparing(SyntheticModels.Preset::parameters)).toList()) {
                o.printf(Locale.ROOT, "| %s | %s | %d | %d | %d | %d / %d | %d | %s |%n", p.name(), p.realModel(), p.layers(), p.hidden(),
                        p.intermediate(), p.heads(), p.kvHeads(), p.vocab(), parameters(p.parameters()));
            }
            o.flush();
            return 0;
        }
        if (preset == null || out == null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "PRESET and OUT_DIR are required (or --list)");
        SyntheticModels.Preset p = SyntheticModels.preset(preset);
        if (layers != null) p = p.withLayers(layers);
        DType t = DType.parse(dtype);
        like = Install.resolve(like);
        if (!Files.exists(like)) throw new java.nio.file.NoSuchFileException(like.toString(), null, "the donor model for --like (run from the repository root, or pass --like MODEL)");
        io.entrollm.synthetic.Donor donor;
        try (io.entrollm.model.ModelSource s = io.entrollm.model.ModelSources.openHuggingFace(like)) {
            donor = io.entrollm.synthetic.Donor.of(s);
        }
        var names = SyntheticModels.tensorNames(p, new ArrayList<>());
        long start = System.nanoTime();
        try (Progress bar = Progress.start("synth", "tensors", names.size(), spec.commandLine().getErr())) {
            SyntheticModels.write(p, t, seed, donor, out, n -> bar.stepTo(n));
        }
        o.printf(Locale.ROOT, "wrote %s: synthetic %s (%d layers, %s parameters, %s, values resampled from %s) in %.1f s%n", out, p.name(),
                p.layers(), parameters(p.parameters()), t, donor.description(), (System.nanoTime() - start) / 1e9);
        o.flush();
        return 0;
    }
}
