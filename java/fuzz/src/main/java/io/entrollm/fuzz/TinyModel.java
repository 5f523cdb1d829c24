package io.entrollm.fuzz;

import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.synthetic.Donor;
import io.entrollm.synthetic.SyntheticModels;
import io.entrollm.tensor.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Llama small enough to be a fuzzing seed (a few kilobytes: libFuzzer mutates every byte of an input
 * on every run, so seed size is speed), with weights resampled from the bundled test model so the
 * quantizer and the Huffman coder see realistic distributions. Written once per JVM.
 */
final class TinyModel {
    static final SyntheticModels.Preset PRESET = new SyntheticModels.Preset("fuzz", "none (fuzz seed)", "llama",
            16, 32, 1, 2, 1, 300, true, false, 64);

    private static Path dir;

    private TinyModel() {}

    /** A Hugging Face directory: model.safetensors (bf16), config.json, tokenizer.json. */
    static synchronized Path directory() {
        if (dir != null) return dir;
        try {
            Path parent = Files.createTempDirectory("entrollm-fuzz-tiny-");
            parent.toFile().deleteOnExit();
            Path out = parent.resolve("tiny");
            try (ModelSource donor = ModelSources.openHuggingFace(bundledModel())) {
                SyntheticModels.write(PRESET, DType.BF16, 7, Donor.of(donor), out, null);
            }
            // one shard: present it as the single-file layout most checkpoints of this size have
            Files.move(out.resolve("model-00001-of-00001.safetensors"), out.resolve("model.safetensors"));
            Files.delete(out.resolve("model.safetensors.index.json"));
            for (String f : new String[] {"model.safetensors", "config.json", "tokenizer.json"}) out.resolve(f).toFile().deleteOnExit();
            out.toFile().deleteOnExit();
            dir = out;
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] file(String name) {
        try {
            return Files.readAllBytes(directory().resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** test-models/sotu-tiny, found from the working directory upwards (the repository root or a module). */
    static Path bundledModel() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path m = p.resolve("test-models/sotu-tiny");
            if (Files.isDirectory(m)) return m;
        }
        throw new IllegalStateException("test-models/sotu-tiny not found above " + Path.of("").toAbsolutePath());
    }
}
