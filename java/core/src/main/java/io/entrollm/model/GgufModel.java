package io.entrollm.model;

import io.entrollm.format.gguf.GgufFile;
import io.entrollm.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A GGUF file as a model source; tensors keep their GGUF names and row order. */
public final class GgufModel implements ModelSource {
    /** llama.cpp's key for the verbatim Hugging Face tokenizer.json. */
    public static final String HF_TOKENIZER_KEY = "tokenizer.huggingface.json";

    private final GgufFile file;
    private final ModelConfig config;

    private GgufModel(GgufFile file, ModelConfig config) {
        this.file = file;
        this.config = config;
    }

    public static GgufModel open(Path path) throws IOException {
        GgufFile file = GgufFile.open(path);
        try {
            Optional<String> arch = file.string("general.architecture");
            if (arch.isPresent() && ModelConfigs.ggufArchitectureSupported(arch.get())) return new GgufModel(file, ModelConfigs.fromGguf(file));
            // another architecture (or none): the file is still readable, for inspect and analyze; running it says why not
            GgufModel m = new GgufModel(file, null);
            m.noConfig = arch.map(a -> "architecture '" + a + "' is not supported (llama, qwen2, phi3 are)")
                    .orElse("metadata has no general.architecture");
            return m;
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private String noConfig;

    @Override public Optional<String> whyNoConfig() { return Optional.ofNullable(noConfig); }

    public GgufFile file() { return file; }

    @Override public java.util.Optional<GgufFile> gguf() { return java.util.Optional.of(file); }

    @Override public Path path() { return file.path(); }

    @Override public String formatDescription() { return "GGUF v" + file.version(); }

    @Override public Optional<ModelConfig> config() { return Optional.ofNullable(config); }

    @Override public List<Tensor> tensors() { return file.tensors(); }

    @Override public Optional<String> tokenizerJson() { return file.string(HF_TOKENIZER_KEY); }

    @Override public void close() { file.close(); }
}
