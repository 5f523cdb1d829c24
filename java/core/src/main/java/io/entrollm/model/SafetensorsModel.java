package io.entrollm.model;

import io.entrollm.format.safetensors.SafetensorsFile;
import io.entrollm.format.safetensors.ShardedSafetensors;
import io.entrollm.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A Hugging Face checkpoint: a directory with config.json, tokenizer.json and either
 * model.safetensors or model.safetensors.index.json + shards; or a lone .safetensors file (its
 * directory's config.json and tokenizer.json are used when present).
 */
public final class SafetensorsModel implements ModelSource {
    public static final String SINGLE_FILE = "model.safetensors";

    private final Path path;
    private final AutoCloseable files;
    private final List<Tensor> tensors;
    private final String description;
    private final ModelConfig config;
    private final String tokenizerJson;
    private final String configJson;

    private SafetensorsModel(Path path, AutoCloseable files, List<Tensor> tensors, String description,
                             ModelConfig config, String configJson, String tokenizerJson) {
        this.path = path;
        this.files = files;
        this.tensors = tensors;
        this.description = description;
        this.config = config;
        this.tokenizerJson = tokenizerJson;
        this.configJson = configJson;
    }

    /** Opens a model directory, a .safetensors file or a model.safetensors.index.json. */
    public static SafetensorsModel open(Path path) throws IOException {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        Path weights = path;
        if (Files.isDirectory(path)) {
            if (Files.exists(path.resolve(ShardedSafetensors.INDEX_FILE))) weights = path.resolve(ShardedSafetensors.INDEX_FILE);
            else if (Files.exists(path.resolve(SINGLE_FILE))) weights = path.resolve(SINGLE_FILE);
            else throw new java.nio.file.NoSuchFileException(path + ": no " + SINGLE_FILE + " or " + ShardedSafetensors.INDEX_FILE);
        }
        Path configFile = dir.resolve("config.json");
        ModelConfig config = Files.exists(configFile) ? ModelConfigs.fromConfigJson(configFile) : null;
        String configJson = config == null ? null : utf8(configFile);
        Path tokenizerFile = dir.resolve("tokenizer.json");
        String tokenizer = Files.exists(tokenizerFile) ? utf8(tokenizerFile) : null;
        if (weights.getFileName().toString().endsWith(".json")) {
            ShardedSafetensors sharded = ShardedSafetensors.open(weights);
            return new SafetensorsModel(path, sharded, sharded.tensors(),
                    "safetensors (" + sharded.shardCount() + " shards)", config, configJson, tokenizer);
        }
        SafetensorsFile file = SafetensorsFile.open(weights);
        return new SafetensorsModel(path, file, file.tensors(), "safetensors", config, configJson, tokenizer);
    }

    /** A JSON file beside the weights as text; bytes that are not UTF-8 are a format error naming it. */
    private static String utf8(Path file) throws IOException {
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new io.entrollm.format.FormatException(file, "is not valid UTF-8 text");
        }
    }

    @Override public Path path() { return path; }

    /** Companion files are read from beside the weights when asked for (UTF-8, at most 64 MiB). */
    @Override
    public Optional<String> companionJson(String name) {
        if (!COMPANION_FILES.contains(name)) throw new IllegalArgumentException("not a companion file: " + name);
        Path file = companionOrigin(name);
        try {
            if (!Files.isRegularFile(file)) return Optional.empty();
            if (Files.size(file) > 64L << 20) throw new io.entrollm.format.FormatException(file, "is larger than 64 MiB");
            return Optional.of(utf8(file));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    @Override public Path companionOrigin(String name) { return (Files.isDirectory(path) ? path : path.toAbsolutePath().getParent()).resolve(name); }

    @Override public String formatDescription() { return description; }

    @Override public Optional<ModelConfig> config() { return Optional.ofNullable(config); }

    @Override public List<Tensor> tensors() { return tensors; }

    @Override public Optional<String> tokenizerJson() { return Optional.ofNullable(tokenizerJson); }

    @Override public Path tokenizerOrigin() { return (Files.isDirectory(path) ? path : path.toAbsolutePath().getParent()).resolve("tokenizer.json"); }

    @Override public Optional<String> configJson() { return Optional.ofNullable(configJson); }

    @Override
    public void close() {
        try {
            files.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
