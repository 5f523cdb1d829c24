package io.entrollm.container;

import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.model.StoredTensor;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A .entro file as a {@link ModelSource}: coded tensors are decoded and dequantized to float32 on
 * first access (all cores), raw tensors are slices of the mapping. Names are Hugging Face names.
 */
public final class EntroModel implements ModelSource {
    private final EntroFile file;
    private final Arena arena = Arena.ofShared();
    private List<Tensor> decoded;
    /** GGML-coded tensors, decoded once into their blocks. */
    private final java.util.Map<String, Tensor> ggmlBlocks = new java.util.HashMap<>();

    private EntroModel(EntroFile file) { this.file = file; }

    public static EntroModel open(Path path) throws IOException { return new EntroModel(EntroFile.open(path)); }

    public EntroFile file() { return file; }

    @Override public Path path() { return file.path(); }

    @Override public String formatDescription() { return ".entro v" + file.version(); }

    @Override public Optional<ModelConfig> config() { return Optional.ofNullable(file.directory().config()); }

    @Override public Optional<String> configJson() {
        return Optional.ofNullable(file.directory().hfConfig()).map(Object::toString);
    }

    @Override public Optional<String> tokenizerJson() { return file.tokenizerJson(); }

    @Override public Optional<String> companionJson(String name) { return file.companionJson(name); }

    @Override
    public List<String> tensorNames() { return file.entries().stream().map(EntroEntry::name).toList(); }

    @Override
    public Optional<long[]> shape(String name) {
        return file.entries().stream().filter(e -> e.name().equals(name)).findFirst().map(EntroEntry::shape);
    }

    /**
     * Coded and packed tensors in their stored form (no decoding); raw ones as slices of the mapping; GGML-coded
     * ones as their GGML blocks, decoded on first use and kept (the form the engine computes from).
     */
    @Override
    public StoredTensor stored(String name) {
        EntroEntry e = file.entry(name).orElseThrow(() -> new IllegalArgumentException(path() + ": no tensor named '" + name + "'"));
        return e instanceof EntroEntry.GgmlCoded g ? StoredTensor.of(blocks(g)) : file.stored(e);
    }

    private synchronized Tensor blocks(EntroEntry.GgmlCoded g) {
        return ggmlBlocks.computeIfAbsent(g.name(), n -> file.ggmlBlocks(g, arena));
    }

    @Override
    public synchronized List<Tensor> tensors() {
        if (decoded == null) {
            List<Tensor> out = new ArrayList<>();
            for (EntroEntry e : file.entries()) {
                out.add(switch (e) {
                    case EntroEntry.Raw r -> file.rawTensor(r);
                    case EntroEntry.GgmlCoded g -> blocks(g);
                    case EntroEntry.Quantized c -> {
                        float[] w = file.stored(c).dequantize();
                        MemorySegment seg = arena.allocate(4L * w.length, 64);
                        MemorySegment.copy(w, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, w.length);
                        yield new Tensor(c.name(), DType.F32, c.shape(), seg);
                    }
                });
            }
            decoded = List.copyOf(out);
        }
        return decoded;
    }

    @Override
    public void close() {
        arena.close();
        file.close();
    }

    /** Registers .entro with {@link ModelSources#open}. */
    public static final class Opener implements ModelSources.Opener {
        @Override public boolean recognises(Path path, byte[] head) { return EntroFile.hasMagic(head); }

        @Override public ModelSource open(Path path) throws IOException { return EntroModel.open(path); }
    }
}
