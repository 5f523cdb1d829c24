package io.entrollm.interop;

import io.entrollm.testing.TestModels;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * llama.cpp itself, through native/llamacpp/llama-probe (libllama and libggml from the npm package
 * node-llama-cpp 3.21.1, installed by {@code make llamacpp} into target/llamacpp). Where it is missing the
 * tests fail when {@code entrollm.requireLlamaCpp} is set (make test sets it) and are skipped otherwise.
 */
final class LlamaCpp {
    /** llama_ftype numbers (llama.h). */
    enum Ftype {
        Q4_0(2), Q8_0(7), Q2_K(10), Q3_K_M(12), Q4_K_M(15), Q5_K_M(17), Q6_K(18);
        final int id;
        Ftype(int id) { this.id = id; }
    }

    private final Path probe;

    private LlamaCpp(Path probe) { this.probe = probe; }

    static LlamaCpp require() {
        Path probe = TestModels.repoRoot().resolve("target/llamacpp/llama-probe");
        if (!Files.isExecutable(probe)) {
            String why = "llama.cpp is not installed (" + probe + "): run `make llamacpp` (native/llamacpp/install.sh fetches "
                    + "node-llama-cpp 3.21.1 from the npm registry)";
            if (Boolean.getBoolean("entrollm.requireLlamaCpp")) fail(why);
            assumeTrue(false, why);
        }
        return new LlamaCpp(probe);
    }

    void quantize(Path in, Path out, Ftype type, boolean pure) throws IOException {
        run("quantize", in.toString(), out.toString(), Integer.toString(type.id), pure ? "1" : "0");
    }

    int[] tokenize(Path model, String text) throws IOException { return ints(run("tokenize", model.toString(), text)); }

    int[] greedy(Path model, int steps, int[] prompt) throws IOException {
        List<String> args = new ArrayList<>(List.of("greedy", model.toString(), Integer.toString(steps)));
        for (int id : prompt) args.add(Integer.toString(id));
        return ints(run(args.toArray(String[]::new)));
    }

    /** Logits of every position, position-major. */
    float[] logits(Path model, int[] ids, Path scratch) throws IOException {
        Path out = scratch.resolve("logits.f32");
        List<String> args = new ArrayList<>(List.of("logits", model.toString(), out.toString()));
        for (int id : ids) args.add(Integer.toString(id));
        run(args.toArray(String[]::new));
        return floats(out);
    }

    /** Every tensor of {@code model} dequantized by ggml's own to_float, one float32 file per tensor in {@code dir}. */
    void dequantize(Path model, Path dir) throws IOException {
        Files.createDirectories(dir);
        run("dequant", model.toString(), dir.toString());
    }

    static float[] floats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    private static int[] ints(String line) {
        String t = line.trim();
        return t.isEmpty() ? new int[0] : Arrays.stream(t.split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    private String run(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(probe.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
        var stderr = p.getErrorStream().readAllBytes();   // small; read before stdout can fill
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("llama-probe " + args[0] + " did not finish in 300 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        if (p.exitValue() != 0) fail("llama-probe " + String.join(" ", args).substring(0, Math.min(200, String.join(" ", args).length()))
                + " failed: " + new String(stderr).strip());
        return out;
    }
}
