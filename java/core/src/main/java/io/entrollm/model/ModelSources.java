package io.entrollm.model;

import io.entrollm.format.gguf.GgufFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Opens any supported model path: a Hugging Face directory (single or sharded safetensors), a
 * .safetensors file, a model.safetensors.index.json, a GGUF file, or any format contributed by a
 * {@link Opener} service (the .entro container registers one). Files are recognised by their first
 * bytes, not their names.
 */
public final class ModelSources {
    /** A format that can recognise and open its own files. */
    public interface Opener {
        /** True if this format owns the file, judged by {@code head} (its first up to 16 bytes) and, where the format has no magic, its name. */
        boolean recognises(Path path, byte[] head);

        ModelSource open(Path path) throws IOException;
    }

    private ModelSources() {}

    public static ModelSource open(Path path) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString());
        if (Files.isDirectory(path)) {
            try (var s = Files.list(path)) {
                List<Path> gguf = s.filter(p -> p.getFileName().toString().endsWith(".gguf")).toList();
                boolean hasSafetensors = Files.exists(path.resolve(SafetensorsModel.SINGLE_FILE))
                        || Files.exists(path.resolve(io.entrollm.format.safetensors.ShardedSafetensors.INDEX_FILE));
                if (!hasSafetensors && gguf.size() == 1) return GgufModel.open(gguf.get(0));
            }
            return SafetensorsModel.open(path);
        }
        if (path.getFileName().toString().endsWith(".json")) return SafetensorsModel.open(path);
        byte[] head = head(path);
        if (head.length >= 4 && ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(0) == GgufFile.MAGIC) {
            return GgufModel.open(path);
        }
        for (Opener opener : openers()) if (opener.recognises(path, head)) return opener.open(path);
        return SafetensorsModel.open(path);
    }

    /** Opens {@code path} and presents it with Hugging Face names and row order. */
    public static ModelSource openHuggingFace(Path path) throws IOException {
        ModelSource source = open(path);
        try {
            return HuggingFaceView.of(source);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    private static byte[] head(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(16);
        }
    }

    private static List<Opener> openers() {
        List<Opener> out = new ArrayList<>();
        ServiceLoader.load(Opener.class).forEach(out::add);
        return out;
    }
}
