package io.entrollm.format.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.format.FormatException;
import io.entrollm.io.MappedFile;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader of one safetensors file, memory-mapped; tensors are slices of the mapping.
 *
 * <p>Layout (see docs/INPUT-FORMATS.md): {@code u64 N} (little-endian) | N bytes of UTF-8 JSON
 * header | data. The header maps each tensor name to {@code {"dtype", "shape", "data_offsets": [begin,
 * end]}} with offsets relative to the start of the data; an optional {@code "__metadata__"} maps
 * strings to strings. As in the reference implementation, the tensors must tile the data exactly: no
 * overlap, no hole, nothing past the end.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation refuses larger headers; so do we, before allocating. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MappedFile file;
    private final Map<String, String> metadata;
    private final List<Tensor> tensors;

    private SafetensorsFile(MappedFile file, Map<String, String> metadata, List<Tensor> tensors) {
        this.file = file;
        this.metadata = metadata;
        this.tensors = tensors;
    }

    public static SafetensorsFile open(Path path) throws IOException {
        return MappedFile.openAndParse(path, SafetensorsFile::parse);
    }

    private static SafetensorsFile parse(MappedFile file) {
        Path path = file.path();
        MemorySegment seg = file.segment();
        long size = seg.byteSize();
        if (size < 8) throw new FormatException(path, "truncated: " + size + " bytes, shorter than the 8-byte header length");
        long headerLen = seg.get(TensorReader.I64, 0);
        if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
            throw new FormatException(path, "header length " + Long.toUnsignedString(headerLen)
                    + " is not a plausible safetensors header (2.." + MAX_HEADER_BYTES + " bytes); not a safetensors file?");
        }
        if (headerLen > size - 8) {
            throw new FormatException(path, "truncated: header length " + headerLen + " runs past the end of the file ("
                    + size + " bytes)");
        }
        byte[] headerBytes = seg.asSlice(8, headerLen).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        if (headerBytes[0] != '{') throw new FormatException(path, "header does not start with '{'; not a safetensors file?");
        // the reference writer pads the header with spaces to 8 bytes; anything else after the JSON is refused
        int end = headerBytes.length;
        while (end > 0 && headerBytes[end - 1] == ' ') end--;
        JsonNode header = io.entrollm.format.StrictJson.parse(path, java.util.Arrays.copyOf(headerBytes, end), "header");
        if (!header.isObject()) throw new FormatException(path, "header is not a JSON object");

        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals("__metadata__")) {
                readMetadata(path, field.getValue(), metadata);
            } else {
                entries.add(readEntry(path, field.getKey(), field.getValue(), dataSize));
            }
        }
        checkTiling(path, entries, dataSize);

        List<Tensor> tensors = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            tensors.add(new Tensor(e.name, e.dtype, e.shape, seg.asSlice(dataStart + e.begin, e.end - e.begin)));
        }
        return new SafetensorsFile(file, metadata, tensors);
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private static void readMetadata(Path path, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) throw new FormatException(path, "__metadata__ is not an object of strings");
        node.fields().forEachRemaining(f -> {
            if (!f.getValue().isTextual()) {
                throw new FormatException(path, "__metadata__ value of '" + f.getKey() + "' is not a string");
            }
            out.put(f.getKey(), f.getValue().asText());
        });
    }

    private static Entry readEntry(Path path, String name, JsonNode node, long dataSize) {
        if (!node.isObject()) throw FormatException.forTensor(path, name, "header entry is not an object");
        JsonNode dtypeNode = node.get("dtype"), shapeNode = node.get("shape"), offsetsNode = node.get("data_offsets");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw FormatException.forTensor(path, name, "missing dtype");
        DType dtype = DType.fromSafetensors(dtypeNode.asText()).orElseThrow(() ->
                FormatException.forTensor(path, name, "unknown or unsupported dtype '" + dtypeNode.asText() + "'"));
        if (shapeNode == null || !shapeNode.isArray()) throw FormatException.forTensor(path, name, "missing shape array");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw FormatException.forTensor(path, name, "shape " + shapeNode + " has a non-integer or negative dimension");
            }
            shape[i] = d.asLong();
        }
        if (offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2
                || !offsetsNode.get(0).isIntegralNumber() || !offsetsNode.get(1).isIntegralNumber()
                || !offsetsNode.get(0).canConvertToLong() || !offsetsNode.get(1).canConvertToLong()) {
            throw FormatException.forTensor(path, name, "data_offsets must be two integers [begin, end]");
        }
        long begin = offsetsNode.get(0).asLong(), end = offsetsNode.get(1).asLong();
        if (begin < 0 || end < begin) {
            throw FormatException.forTensor(path, name, "data_offsets [" + begin + ", " + end + "] are not an ascending range");
        }
        if (end > dataSize) {
            throw FormatException.forTensor(path, name, "data_offsets [" + begin + ", " + end + "] run past the end of the data ("
                    + dataSize + " bytes): file truncated?");
        }
        long expected;
        try {
            expected = dtype.byteSize(Tensor.elementCount(shape));
        } catch (ArithmeticException e) {
            throw FormatException.forTensor(path, name, "shape " + Arrays.toString(shape) + " overflows 64 bits");
        }
        if (expected != end - begin) {
            throw FormatException.forTensor(path, name, "shape " + Arrays.toString(shape) + " of " + dtype + " needs " + expected
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void checkTiling(Path path, List<Entry> entries, long dataSize) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expectedBegin = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin < expectedBegin) {
                throw FormatException.forTensor(path, e.name, "data_offsets [" + e.begin + ", " + e.end + "] overlap tensor '"
                        + previous.name + "'");
            }
            if (e.begin > expectedBegin) {
                throw FormatException.forTensor(path, e.name, "data_offsets start at " + e.begin + ", leaving a hole after byte "
                        + expectedBegin);
            }
            expectedBegin = e.end;
            previous = e;
        }
        if (expectedBegin != dataSize) {
            throw new FormatException(path, "tensors cover " + expectedBegin + " bytes of data but the file holds " + dataSize);
        }
    }

    public Path path() { return file.path(); }

    /** Tensors in header order. */
    public List<Tensor> tensors() { return Collections.unmodifiableList(tensors); }

    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    @Override
    public void close() { file.close(); }
}
