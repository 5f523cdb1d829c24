package io.entrollm.model;

import io.entrollm.tensor.Tensor;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A model opened from disk: its tensors (slices of mapped files, named as in the file), its
 * config and its tokenizer when the source has them. Closing it unmaps the files, after which the
 * tensors must not be used.
 */
public interface ModelSource extends AutoCloseable {

    Path path();

    /** e.g. {@code safetensors (3 shards)} or {@code GGUF v3}. */
    String formatDescription();

    Optional<ModelConfig> config();

    /** Why {@link #config()} is empty, when the source knows (an unsupported architecture). */
    default Optional<String> whyNoConfig() { return Optional.empty(); }

    /** Tensors in file order. */
    List<Tensor> tensors();

    /** The Hugging Face config.json text, when the source carries one. */
    default Optional<String> configJson() { return Optional.empty(); }

    /** The Hugging Face tokenizer.json text, when the source carries one. */
    Optional<String> tokenizerJson();

    /**
     * Small files that come with Hugging Face weights and that tools read besides config.json and tokenizer.json
     * (chat templates, special tokens, generation defaults). A .entro file carries them; a GGUF's own metadata
     * holds what they say.
     */
    List<String> COMPANION_FILES = List.of("tokenizer_config.json", "generation_config.json", "special_tokens_map.json");

    /** The text of companion file {@code name} (one of {@link #COMPANION_FILES}), when the source has it. */
    default Optional<String> companionJson(String name) { return Optional.empty(); }

    /** Where companion file {@code name} came from, for messages. */
    default Path companionOrigin(String name) { return path(); }

    /** The file {@link #tokenizerJson()} came from, for messages (a tokenizer.json beside the weights, or the model file). */
    default Path tokenizerOrigin() { return path(); }

    /** Tensor names in file order, from metadata alone. */
    default List<String> tensorNames() { return tensors().stream().map(Tensor::name).toList(); }

    default Optional<Tensor> find(String name) {
        return tensors().stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** The shape of a tensor, from metadata alone (a .entro file answers without decoding anything). */
    default Optional<long[]> shape(String name) { return find(name).map(Tensor::shape); }

    default Tensor tensor(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(path() + ": no tensor named '" + name + "'"));
    }

    /** How tensor {@code name} is stored: by default its {@link Tensor} as stored (raw or GGML blocks). */
    default StoredTensor stored(String name) { return StoredTensor.of(tensor(name)); }

    /** The GGUF file behind this source (its metadata carries the tokenizer), when there is one. */
    default Optional<io.entrollm.format.gguf.GgufFile> gguf() { return Optional.empty(); }

    default long totalBytes() {
        return tensors().stream().mapToLong(Tensor::byteSize).sum();
    }

    @Override
    void close();
}
