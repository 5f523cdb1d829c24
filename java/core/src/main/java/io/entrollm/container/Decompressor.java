package io.entrollm.container;

import io.entrollm.format.safetensors.SafetensorsWriter;
import io.entrollm.io.AtomicDirectory;
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
 * other tools load: dequantized weights in the requested dtype, raw tensors in their own. The
 * directory appears whole or not at all ({@link AtomicDirectory}).
 */
public final class Decompressor {
    private Decompressor() {}

    public static void writeHuggingFace(ModelSource model, Path dir, DType dtype) throws IOException {
        String config = model.configJson().orElseThrow(() ->
                new IllegalArgumentException(model.path() + ": holds no Hugging Face config.json to write"));
        try (AtomicDirectory out = AtomicDirectory.create(dir); Arena arena = Arena.ofConfined()) {
            List<Tensor> tensors = new ArrayList<>();
            // dequantized (f32) and GGML-block tensors in the requested dtype; raw ones as they are
            for (Tensor t : model.tensors()) {
                boolean convert = t.dtype().isBlockQuantized() || (t.dtype() == DType.F32 && dtype != DType.F32);
                tensors.add(convert ? convert(t, dtype, arena) : t);
            }
            SafetensorsWriter.write(out.path().resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            writeText(out.path().resolve("config.json"), withDtype(config, dtype));
            if (model.tokenizerJson().isPresent()) writeText(out.path().resolve("tokenizer.json"), model.tokenizerJson().get());
            for (String name : ModelSource.COMPANION_FILES) {
                java.util.Optional<String> text = model.companionJson(name);
                if (text.isPresent()) writeText(out.path().resolve(name), text.get());
            }
            out.commit();
        }
    }

    private static Tensor convert(Tensor t, DType dtype, Arena arena) {
        float[] v = TensorReader.toFloats(t);
        MemorySegment seg = arena.allocate(dtype.byteSize(v.length), 64);
        for (int i = 0; i < v.length; i++) {
            if (dtype == DType.F32) seg.set(TensorReader.F32, 4L * i, v[i]);
            else seg.set(TensorReader.I16, 2L * i, dtype == DType.BF16 ? FloatBits.floatToBf16(v[i]) : FloatBits.floatToF16(v[i]));
        }
        return new Tensor(t.name(), dtype, t.shape(), seg);
    }

    /**
     * The config with its dtype fields ({@code torch_dtype}, and {@code dtype} of newer transformers) set to
     * what the weights were written in: loaders size their buffers by it.
     */
    static String withDtype(String configJson, DType dtype) throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(configJson);
        String name = switch (dtype) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> throw new IllegalArgumentException("weights are written as f32, f16 or bf16, not " + dtype);
        };
        boolean any = false;
        for (String key : new String[] {"torch_dtype", "dtype"}) {
            if (root.has(key)) {
                root.put(key, name);
                any = true;
            }
        }
        if (!any) root.put("torch_dtype", name);
        return json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }

    private static void writeText(Path p, String text) throws IOException {
        AtomicFile.write(p, text.getBytes(StandardCharsets.UTF_8));
    }
}
