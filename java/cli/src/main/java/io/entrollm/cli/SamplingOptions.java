package io.entrollm.cli;

import io.entrollm.infer.Sampler;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/** The sampling options of the commands that generate text, checked before any work. */
final class SamplingOptions {
    @Option(names = "--temperature", description = "Sampling temperature, >= 0; 0 = greedy. Default: 0 for run, 0.7 for chat.")
    Float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k most likely tokens; 0 = no limit. Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "Nucleus sampling: the smallest set of tokens whose probability reaches p, in (0, 1]. Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(names = "--seed", description = "Random seed for sampling; random unless given, and printed (when sampling) so a run can be repeated.")
    Long seed;

    /** Refuses out-of-range values as usage errors, before a model is loaded. */
    void check(CommandLine cli, float defaultTemperature) {
        float t = temperature(defaultTemperature);
        if (!(t >= 0) || Float.isInfinite(t)) throw new CommandLine.ParameterException(cli, "--temperature must be a finite number >= 0 (0 = greedy), is " + t);
        if (topK < 0) throw new CommandLine.ParameterException(cli, "--top-k must be >= 0 (0 = no limit), is " + topK);
        if (!(topP > 0 && topP <= 1)) throw new CommandLine.ParameterException(cli, "--top-p must be in (0, 1], is " + topP);
    }

    /** The sampler; when it samples, the seed it uses goes to {@code err} (random unless --seed was given). */
    Sampler sampler(float defaultTemperature, PrintWriter err) {
        Sampler.Builder b = Sampler.builder().temperature(temperature(defaultTemperature)).topK(topK).topP(topP);
        if (seed != null) b.seed(seed);
        if (temperature(defaultTemperature) > 0) {
            seedUsed = b.seed();
            err.println("seed: " + b.seed());
            err.flush();
        }
        return b.build();
    }

    private Long seedUsed;

    /** The seed of the last {@link #sampler} that samples; null when it is greedy. */
    Long seedUsed() { return seedUsed; }

    /** --temperature, or the command's default when it was not given. */
    private float temperature(float defaultTemperature) { return temperature != null ? temperature : defaultTemperature; }
}
