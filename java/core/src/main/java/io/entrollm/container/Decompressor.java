package io.entrollm.container;

import io.entrollm.format.safetensors.SafetensorsWriter;
import io.entrollm.io.AtomicFile;
import io.entrollm.model.ModelSource;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.FloatBits;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a model as a Hugging Face directory (model.safetensors, config.json, tokenizer.json) that
 * other tools load: dequantized weights in the requested dtype, raw tensors in their own.
 */
public final class Decompressor {
    private Decompressor() {}

    public static void writeHuggingFace(ModelSource model, Path dir, DType dtype) throws IOException {
        String config = model.configJson().orElseThrow(() ->
                new IllegalArgumentException(model.path() + ": holds no Hugging Face config.json to write"));
        Files.createDirectories(dir);
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> out = new ArrayList<>();
            for (Tensor t : model.tensors()) out.add(t.dtype() == DType.F32 && dtype != DType.F32 ? convert(t, dtype, arena) : t);
            SafetensorsWriter.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        }
        writeText(dir.resolve("config.json"), config);
        model.tokenizerJson().ifPresent(tok -> {
            try {
                writeText(dir.resolve("tokenizer.json"), tok);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private static Tensor convert(Tensor t, DType dtype, Arena arena) {
        float[] v = TensorReader.toFloats(t);
        MemorySegment seg = arena.allocate(dtype.byteSize(v.length), 64);
        for (int i = 0; i < v.length; i++) {
            seg.set(TensorReader.I16, 2L * i, dtype == DType.BF16 ? FloatBits.floatToBf16(v[i]) : FloatBits.floatToF16(v[i]));
        }
        return new Tensor(t.name(), dtype, t.shape(), seg);
    }

    private static void writeText(Path p, String text) throws IOException {
        AtomicFile.write(p, text.getBytes(StandardCharsets.UTF_8));
    }
}
