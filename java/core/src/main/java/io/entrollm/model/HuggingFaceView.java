package io.entrollm.model;

import io.entrollm.format.FormatException;
import io.entrollm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Any model source seen with Hugging Face tensor names and row order, so inference, quantization
 * and conversion have one code path for every format. For GGUF, names are mapped back and llama's
 * q/k rows un-permuted (copies owned by this view); other sources pass through unchanged.
 */
public final class HuggingFaceView implements ModelSource {
    private final ModelSource source;
    private final Arena arena;
    private final List<Tensor> tensors;

    private HuggingFaceView(ModelSource source, Arena arena, List<Tensor> tensors) {
        this.source = source;
        this.arena = arena;
        this.tensors = tensors;
    }

    /** Wraps {@code source}; closing the view closes the source. */
    public static HuggingFaceView of(ModelSource source) {
        // pass-through: tensors() is asked of the source only when called (a .entro source dequantizes every tensor for it)
        // a GGUF file of an architecture we do not run keeps its own names: it can be inspected, not run
        if (!(source instanceof GgufModel gguf) || gguf.config().isEmpty()) return new HuggingFaceView(source, null, null);
        ModelConfig config = gguf.config().orElseThrow(() -> new FormatException(gguf.path(), "no model metadata to map tensor names"));
        Arena arena = Arena.ofShared();
        try {
            List<Tensor> out = new ArrayList<>();
            for (Tensor t : gguf.tensors()) {
                if (!isWeight(t.name())) continue;
                String name = huggingFaceName(t.name(), config).orElseThrow(() ->
                        FormatException.forTensor(gguf.path(), t.name(), "no Hugging Face name for this GGUF tensor"));
                Tensor renamed = t.renamed(name);
                int heads = ropeHeads(config, name);
                try {
                    if (heads > 0) renamed = RopePermutation.toHuggingFace(renamed, heads, arena);
                } catch (IllegalArgumentException e) {
                    throw new FormatException(gguf.path(), e.getMessage());
                }
                out.add(renamed);
            }
            return new HuggingFaceView(source, arena, List.copyOf(out));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Whether a GGUF tensor is a weight this view shows (rope_freqs.weight is derived from the config). */
    public static boolean isWeight(String ggufName) { return !ggufName.equals("rope_freqs.weight"); }

    /** The Hugging Face name of GGUF tensor {@code ggufName} in a model of {@code config}. */
    public static Optional<String> huggingFaceName(String ggufName, ModelConfig config) {
        return LlamaTensorNames.toHuggingFace(ggufName, config.modelType().equals("phi3"));
    }

    /**
     * The head count of the q/k row permutation between GGUF and Hugging Face order for tensor {@code hfName}
     * (llama's q and k projections, {@link RopePermutation}), or 0 where rows are in the same order.
     */
    public static int ropeHeads(ModelConfig config, String hfName) {
        if (!config.modelType().equals("llama")) return 0;
        if (hfName.contains("self_attn.q_proj.")) return config.numHeads();
        if (hfName.contains("self_attn.k_proj.")) return config.numKvHeads();
        return 0;
    }

    /** A pass-through view asks the source (a .entro file's coded form); a GGUF view's tensors are its renamed copies. */
    @Override
    public StoredTensor stored(String name) { return arena == null ? source.stored(name) : ModelSource.super.stored(name); }

    @Override public Optional<io.entrollm.format.gguf.GgufFile> gguf() { return source.gguf(); }

    @Override public Optional<String> companionJson(String name) { return source.companionJson(name); }

    @Override public Path companionOrigin(String name) { return source.companionOrigin(name); }

    @Override
    public Optional<long[]> shape(String name) {
        return arena == null ? source.shape(name) : ModelSource.super.shape(name);
    }

    @Override public Path path() { return source.path(); }

    @Override public String formatDescription() { return source.formatDescription(); }

    @Override public Optional<ModelConfig> config() { return source.config(); }

    @Override public Optional<String> whyNoConfig() { return source.whyNoConfig(); }

    @Override public List<Tensor> tensors() { return tensors == null ? source.tensors() : tensors; }

    @Override public List<String> tensorNames() { return tensors == null ? source.tensorNames() : ModelSource.super.tensorNames(); }

    @Override public Optional<String> tokenizerJson() { return source.tokenizerJson(); }

    @Override public Path tokenizerOrigin() { return source.tokenizerOrigin(); }

    @Override public Optional<String> configJson() { return source.configJson(); }

    @Override
    public void close() {
        if (arena != null) arena.close();
        source.close();
    }
}
