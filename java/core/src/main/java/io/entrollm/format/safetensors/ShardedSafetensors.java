package io.entrollm.format.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.format.FormatException;
import io.entrollm.io.AtomicFile;
import io.entrollm.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint split over several safetensors files, tied together by {@code
 * model.safetensors.index.json}: {@code {"metadata": {"total_size": N}, "weight_map": {tensor: file}}}.
 * Reading checks that every tensor named in the index is in the shard the index names, and that no
 * shard holds a tensor the index does not list.
 */
public final class ShardedSafetensors implements AutoCloseable {
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<SafetensorsFile> shards;
    private final List<Tensor> tensors;

    private ShardedSafetensors(List<SafetensorsFile> shards, List<Tensor> tensors) {
        this.shards = shards;
        this.tensors = tensors;
    }

    public static ShardedSafetensors open(Path indexFile) throws IOException {
        JsonNode root = io.entrollm.format.StrictJson.parse(indexFile, java.nio.file.Files.readAllBytes(indexFile), "the shard index");
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject()) throw new FormatException(indexFile, "no \"weight_map\" object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        map.fields().forEachRemaining(f -> {
            if (!f.getValue().isTextual()) throw FormatException.forTensor(indexFile, f.getKey(), "weight_map value is not a file name");
            String file = f.getValue().asText();
            if (file.contains("/") || file.contains("\\") || file.equals("..")) {
                throw FormatException.forTensor(indexFile, f.getKey(), "shard name '" + file + "' is not a plain file name");
            }
            weightMap.put(f.getKey(), file);
        });
        Path dir = indexFile.toAbsolutePath().getParent();
        List<SafetensorsFile> shards = new ArrayList<>();
        try {
            Map<String, Tensor> byName = new HashMap<>();
            for (String shardName : new LinkedHashSet<>(weightMap.values())) {
                Path shardPath = dir.resolve(shardName);
                if (!Files.exists(shardPath)) {
                    throw new FormatException(indexFile, "shard '" + shardName + "' named in weight_map does not exist");
                }
                SafetensorsFile shard = SafetensorsFile.open(shardPath);
                shards.add(shard);
                for (Tensor t : shard.tensors()) {
                    String listed = weightMap.get(t.name());
                    if (!shardName.equals(listed)) {
                        throw FormatException.forTensor(shardPath, t.name(), listed == null
                                ? "present in the shard but missing from " + INDEX_FILE
                                : "present in the shard but " + INDEX_FILE + " places it in '" + listed + "'");
                    }
                    byName.put(t.name(), t);
                }
            }
            List<Tensor> tensors = new ArrayList<>(weightMap.size());
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                Tensor t = byName.get(e.getKey());
                if (t == null) {
                    throw FormatException.forTensor(indexFile, e.getKey(), "listed in weight_map but absent from shard '" + e.getValue() + "'");
                }
                tensors.add(t);
            }
            return new ShardedSafetensors(shards, tensors);
        } catch (RuntimeException | IOException e) {
            shards.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** Tensors in index order. */
    public List<Tensor> tensors() { return tensors; }

    public int shardCount() { return shards.size(); }

    @Override
    public void close() { shards.forEach(SafetensorsFile::close); }

    /**
     * Writes {@code tensors} into {@code dir} as shards of at most {@code maxShardBytes} of tensor data
     * (a larger tensor gets a shard of its own), named {@code model-00001-of-0000N.safetensors}, plus the
     * index. Each file is written atomically; the index is written last.
     */
    public static List<Path> write(Path dir, List<Tensor> tensors, long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("maxShardBytes must be positive");
        List<List<Tensor>> groups = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long currentBytes = 0;
        for (Tensor t : tensors) {
            if (!current.isEmpty() && currentBytes + t.byteSize() > maxShardBytes) {
                groups.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += t.byteSize();
        }
        if (!current.isEmpty() || groups.isEmpty()) groups.add(current);

        return writeShards(dir, groups.size(), groups::get);
    }

    /**
     * Writes {@code count} shards whose tensors {@code shard} produces one shard at a time (so a model
     * generated on the fly never has to be in memory whole), then the index. Same names and atomicity
     * as {@link #write}.
     */
    public static List<Path> writeShards(Path dir, int count, java.util.function.IntFunction<List<Tensor>> shard) throws IOException {
        if (count < 1) throw new IllegalArgumentException("at least one shard");
        Files.createDirectories(dir);
        ObjectNode index = JSON.createObjectNode();
        ObjectNode metadata = index.putObject("metadata");
        ObjectNode weightMap = index.putObject("weight_map");
        long total = 0;
        List<Path> written = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < count; i++) {
            String shardName = String.format("model-%05d-of-%05d.safetensors", i + 1, count);
            Path file = dir.resolve(shardName);
            List<Tensor> tensors = shard.apply(i);
            SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
            written.add(file);
            for (Tensor t : tensors) {
                if (!names.add(t.name())) throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "'");
                weightMap.put(t.name(), shardName);
                total += t.byteSize();
            }
        }
        metadata.put("total_size", total);
        Path indexPath = dir.resolve(INDEX_FILE);
        AtomicFile.write(indexPath, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
        written.add(indexPath);
        return written;
    }

}
