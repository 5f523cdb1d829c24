package io.entrollm.format.gguf;

import io.entrollm.format.FormatException;
import io.entrollm.io.Alignment;
import io.entrollm.io.MappedFile;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reader of GGUF v2 and v3 files (little-endian), memory-mapped; tensors are slices of the mapping.
 *
 * <p>Layout (docs/INPUT-FORMATS.md, after ggml's gguf.md): {@code u32 magic "GGUF"}, {@code u32
 * version}, {@code u64 tensor_count}, {@code u64 kv_count}, kv pairs ({@code string key, u32 type,
 * value}), tensor infos ({@code string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset}), zero
 * padding to {@code general.alignment} (default 32), tensor data. Strings are {@code u64 length} + UTF-8
 * bytes. {@code ne[0]} is the fastest-varying dimension, so the row-major shape is {@code ne} reversed.
 * As in ggml's gguf.cpp, each tensor's offset must equal the running sum of the padded sizes of the
 * tensors before it.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final int MAX_DIMS = 4;
    /** Arrays inside arrays this deep are refused (ggml's own reader accepts none; recursion stays shallow). */
    public static final int MAX_ARRAY_NESTING = 4;
    /**
     * The most elements of a string or nested array (each becomes an object on the heap): 16 Mi, 60x the
     * largest vocabulary in use. Arrays of numbers and booleans are views of the mapping and need no limit.
     */
    public static final long MAX_OBJECT_ARRAY_ELEMENTS = 1L << 24;
    static final String ALIGNMENT_KEY = "general.alignment";

    /** GGML type ids we recognise but cannot dequantize, for a precise error. */
    private static final Map<Integer, String> UNSUPPORTED_GGML_TYPES = Map.ofEntries(
            Map.entry(9, "Q8_1"), Map.entry(16, "IQ2_XXS"), Map.entry(17, "IQ2_XS"), Map.entry(18, "IQ3_XXS"),
            Map.entry(19, "IQ1_S"), Map.entry(20, "IQ4_NL"), Map.entry(21, "IQ3_S"), Map.entry(22, "IQ2_S"),
            Map.entry(23, "IQ4_XS"), Map.entry(29, "IQ1_M"), Map.entry(34, "TQ1_0"), Map.entry(35, "TQ2_0"),
            Map.entry(39, "MXFP4"), Map.entry(40, "NVFP4"), Map.entry(41, "Q1_0"), Map.entry(42, "Q2_0"));

    private final MappedFile file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final List<Tensor> tensors;
    private final int alignment;
    private final long dataStart;

    private GgufFile(MappedFile file, int version, Map<String, GgufValue> metadata, List<Tensor> tensors,
                     int alignment, long dataStart) {
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataStart = dataStart;
    }

    public static GgufFile open(Path path) throws IOException {
        return MappedFile.openAndParse(path, GgufFile::parse);
    }

    private static GgufFile parse(MappedFile file) {
        Cursor in = new Cursor(file.path(), file.segment());
        if (file.size() < 24) throw new FormatException(file.path(), "truncated: " + file.size() + " bytes, shorter than a GGUF header");
        int magic = in.u32AsInt("magic");
        if (magic != MAGIC) {
            throw new FormatException(file.path(), String.format("bad magic 0x%08x, expected \"GGUF\"; not a GGUF file?", magic));
        }
        int version = in.u32AsInt("version");
        if (version == 1) throw new FormatException(file.path(), "GGUF version 1 is not supported (v2 and v3 are)");
        if (version != 2 && version != 3) {
            int swapped = Integer.reverseBytes(version);
            if (swapped == 2 || swapped == 3) throw new FormatException(file.path(), "big-endian GGUF is not supported");
            throw new FormatException(file.path(), "unsupported GGUF version " + Integer.toUnsignedString(version));
        }
        long tensorCount = in.count("tensor_count", 8 + 1 + 4 + 4 + 8);
        long kvCount = in.count("metadata_kv_count", 8 + 4 + 1);

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string("metadata key #" + i);
            long typeId = in.u32("type of metadata '" + key + "'");
            GgufValueType type = GgufValueType.fromId(typeId).orElseThrow(() ->
                    new FormatException(file.path(), "metadata '" + key + "' has unknown value type " + typeId));
            if (metadata.containsKey(key)) throw new FormatException(file.path(), "duplicate metadata key '" + key + "'");
            metadata.put(key, in.value(type, "metadata '" + key + "'", 0));
        }
        int alignment = DEFAULT_ALIGNMENT;
        GgufValue al = metadata.get(ALIGNMENT_KEY);
        if (al != null) {
            if (al.type() != GgufValueType.UINT32) throw new FormatException(file.path(), ALIGNMENT_KEY + " must be UINT32, is " + al.type());
            long a = al.asLong();
            if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 20)) {
                throw new FormatException(file.path(), ALIGNMENT_KEY + " = " + a + " is not a power of two");
            }
            alignment = (int) a;
        }

        record Info(String name, DType type, long[] shape, long offset, long bytes) {}
        List<Info> infos = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = in.string("tensor name #" + i);
            if (!names.add(name)) throw FormatException.forTensor(file.path(), name, "duplicate tensor name");
            long nDims = in.u32("n_dims of tensor '" + name + "'");
            if (nDims < 1 || nDims > MAX_DIMS) throw FormatException.forTensor(file.path(), name, "n_dims = " + nDims + " (must be 1.." + MAX_DIMS + ")");
            long[] ne = new long[(int) nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = in.u64("ne[" + d + "] of tensor '" + name + "'");
                if (ne[d] < 0) throw FormatException.forTensor(file.path(), name, "dimension " + Long.toUnsignedString(ne[d]) + " overflows");
            }
            long typeId = in.u32("type of tensor '" + name + "'");
            DType type = DType.fromGgml(typeId).orElseThrow(() -> FormatException.forTensor(file.path(), name,
                    UNSUPPORTED_GGML_TYPES.containsKey((int) typeId)
                            ? "GGML type " + UNSUPPORTED_GGML_TYPES.get((int) typeId) + " (id " + typeId + ") is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and Q2_K..Q8_K are)"
                            : "unknown GGML type id " + typeId));
            long offset = in.u64("offset of tensor '" + name + "'");
            long[] shape = new long[ne.length];
            for (int d = 0; d < ne.length; d++) shape[d] = ne[ne.length - 1 - d];
            long bytes;
            try {
                long elements = Tensor.elementCount(shape);
                if (ne[0] % type.blockElements() != 0) {
                    throw FormatException.forTensor(file.path(), name, "row length " + ne[0] + " is not a multiple of the "
                            + type + " block size " + type.blockElements());
                }
                bytes = type.byteSize(elements);
            } catch (ArithmeticException e) {
                throw FormatException.forTensor(file.path(), name, "shape " + java.util.Arrays.toString(shape) + " overflows 64 bits");
            }
            infos.add(new Info(name, type, shape, offset, bytes));
        }
        long dataStart = Alignment.alignUp(in.position(), alignment);
        long dataSize = file.size() - dataStart;
        if (dataSize < 0) throw new FormatException(file.path(), "truncated: no room for tensor data after the header");

        List<Tensor> tensors = new ArrayList<>(infos.size());
        long expectedOffset = 0;
        for (Info info : infos) {
            if (info.offset % alignment != 0) {
                throw FormatException.forTensor(file.path(), info.name, "offset " + info.offset + " is not aligned to " + alignment);
            }
            if (info.offset != expectedOffset) {
                throw FormatException.forTensor(file.path(), info.name, "offset " + Long.toUnsignedString(info.offset)
                        + " should be " + expectedOffset + " (tensors must be packed in order; overlapping or out-of-place data)");
            }
            if (info.offset > dataSize || info.bytes > dataSize - info.offset) {
                throw FormatException.forTensor(file.path(), info.name, "data [" + info.offset + ", " + (info.offset + info.bytes)
                        + ") runs past the end of the file (" + dataSize + " data bytes): file truncated?");
            }
            tensors.add(new Tensor(info.name, info.type, info.shape, file.segment().asSlice(dataStart + info.offset, info.bytes)));
            expectedOffset = Alignment.alignUp(info.offset + info.bytes, alignment);
        }
        return new GgufFile(file, version, Collections.unmodifiableMap(metadata), Collections.unmodifiableList(tensors),
                alignment, dataStart);
    }

    public Path path() { return file.path(); }

    public int version() { return version; }

    public int alignment() { return alignment; }

    public long dataStart() { return dataStart; }

    /** The whole file as mapped (valid while this file is open). */
    public MemorySegment bytes() { return file.segment(); }

    /** Metadata in file order. */
    public Map<String, GgufValue> metadata() { return metadata; }

    public Optional<GgufValue> get(String key) { return Optional.ofNullable(metadata.get(key)); }

    /** Tensors in file order, with row-major shapes ({@code ne} reversed). */
    public List<Tensor> tensors() { return tensors; }

    @Override
    public void close() { file.close(); }

    /** Bounds-checked little-endian reads that name what was being read when the file ends. */
    private static final class Cursor {
        private final Path path;
        private final MemorySegment seg;
        private long pos;

        Cursor(Path path, MemorySegment seg) {
            this.path = path;
            this.seg = seg;
        }

        long position() { return pos; }

        private void need(long bytes, String what) {
            if (bytes < 0 || pos + bytes > seg.byteSize() || pos + bytes < pos) {
                throw new FormatException(path, "truncated while reading " + what + " at byte " + pos + " (file is "
                        + seg.byteSize() + " bytes)");
            }
        }

        long u32(String what) {
            need(4, what);
            long v = seg.get(TensorReader.I32, pos) & 0xFFFFFFFFL;
            pos += 4;
            return v;
        }

        int u32AsInt(String what) { return (int) u32(what); }

        long u64(String what) {
            need(8, what);
            long v = seg.get(TensorReader.I64, pos);
            pos += 8;
            return v;
        }

        /** A count that must be small enough for the remaining bytes, each item taking at least {@code minItemBytes}. */
        long count(String what, long minItemBytes) {
            long n = u64(what);
            long remaining = seg.byteSize() - pos;
            if (n < 0 || n > remaining / minItemBytes) {
                throw new FormatException(path, what + " = " + Long.toUnsignedString(n) + " cannot fit in the remaining "
                        + remaining + " bytes (corrupt header?)");
            }
            return n;
        }

        String string(String what) {
            long len = u64("length of " + what);
            if (len < 0 || len > seg.byteSize() - pos) {
                throw new FormatException(path, "truncated or corrupt: " + what + " claims " + Long.toUnsignedString(len)
                        + " bytes at byte " + pos + " (file is " + seg.byteSize() + " bytes)");
            }
            byte[] b = seg.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw new FormatException(path, what + " is not valid UTF-8");
            }
        }

        GgufValue value(GgufValueType type, String what, int depth) {
            if (type != GgufValueType.ARRAY) return GgufValue.of(type, scalar(type, what));
            if (depth >= MAX_ARRAY_NESTING) {
                throw new FormatException(path, what + ": arrays nested more than " + MAX_ARRAY_NESTING + " deep");
            }
            long elemId = u32("element type of " + what);
            GgufValueType elem = GgufValueType.fromId(elemId).orElseThrow(() ->
                    new FormatException(path, what + " has unknown array element type " + elemId));
            long n = count("element count of " + what, elem.fixedBytes() > 0 ? elem.fixedBytes() : 8);
            if (elem.fixedBytes() > 0) {
                // a view of the mapping: a 200 MB array costs nothing until read, and is read only where used
                MemorySegment slice = seg.asSlice(pos, n * elem.fixedBytes());
                if (elem == GgufValueType.BOOL) {
                    for (long i = 0; i < n; i++) {
                        byte b = slice.get(ValueLayout.JAVA_BYTE, i);
                        if (b != 0 && b != 1) throw new FormatException(path, what + "[" + i + "] is a bool with byte value " + b);
                    }
                }
                pos += n * elem.fixedBytes();
                return GgufValue.arrayView(elem, new ScalarArray(elem, slice, n));
            }
            if (n > MAX_OBJECT_ARRAY_ELEMENTS) {
                throw new FormatException(path, what + " has " + n + " elements, more than the " + MAX_OBJECT_ARRAY_ELEMENTS
                        + " this reader accepts for an array of " + elem + "s");
            }
            List<Object> values = new ArrayList<>((int) Math.min(n, 1 << 16));
            for (long i = 0; i < n; i++) {
                GgufValue v = value(elem, what + "[" + i + "]", depth + 1);
                values.add(elem == GgufValueType.ARRAY ? v : v.value()); // nested arrays keep their element type
            }
            return GgufValue.array(elem, values);
        }

        private Object scalar(GgufValueType type, String what) {
            if (type == GgufValueType.STRING) return string(what);
            need(type.fixedBytes(), what);
            if (type == GgufValueType.BOOL) {
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                if (b != 0 && b != 1) throw new FormatException(path, what + " is a bool with byte value " + b);
            }
            Object v = read(type, seg, pos);
            pos += type.fixedBytes();
            return v;
        }
    }

    /** One fixed-size value at {@code offset}, as {@link GgufValue} holds it. */
    static Object read(GgufValueType type, MemorySegment seg, long offset) {
        return switch (type) {
            case UINT8 -> (long) (seg.get(ValueLayout.JAVA_BYTE, offset) & 0xFF);
            case INT8 -> (long) seg.get(ValueLayout.JAVA_BYTE, offset);
            case UINT16 -> (long) (seg.get(TensorReader.I16, offset) & 0xFFFF);
            case INT16 -> (long) seg.get(TensorReader.I16, offset);
            case UINT32 -> seg.get(TensorReader.I32, offset) & 0xFFFFFFFFL;
            case INT32 -> (long) seg.get(TensorReader.I32, offset);
            case UINT64, INT64 -> seg.get(TensorReader.I64, offset);
            case FLOAT32 -> (double) seg.get(TensorReader.F32, offset);
            case FLOAT64 -> seg.get(TensorReader.F64, offset);
            case BOOL -> seg.get(ValueLayout.JAVA_BYTE, offset) == 1;
            default -> throw new AssertionError(type);
        };
    }

    /** An array of numbers or booleans read from the mapping on access (valid while the file is open). */
    private static final class ScalarArray extends java.util.AbstractList<Object> implements java.util.RandomAccess {
        private final GgufValueType type;
        private final MemorySegment data;
        private final int size;

        ScalarArray(GgufValueType type, MemorySegment data, long size) {
            this.type = type;
            this.data = data;
            // Java lists hold at most 2^31-1 elements; beyond that the array is still skipped correctly, only not listable
            this.size = (int) Math.min(size, Integer.MAX_VALUE);
        }

        @Override public Object get(int i) {
            java.util.Objects.checkIndex(i, size);
            return read(type, data, (long) i * type.fixedBytes());
        }

        @Override public int size() { return size; }
    }

    // ---------------------------------------------------------------- typed metadata access

    /** Metadata {@code key} as a string, if present; another type is a format error naming the key. */
    public Optional<String> string(String key) { return typed(key, "a string", v -> v.value() instanceof String s ? s : null); }

    /** Metadata {@code key} as an integer of any width, if present. */
    public Optional<Long> integer(String key) { return typed(key, "an integer", v -> v.value() instanceof Long l ? l : null); }

    /** Metadata {@code key} as a number (integer or float), if present. */
    public Optional<Double> number(String key) {
        return typed(key, "a number", v -> v.value() instanceof Double d ? d : v.value() instanceof Long l ? (double) l : null);
    }

    /** Metadata {@code key} as a bool, if present. */
    public Optional<Boolean> bool(String key) { return typed(key, "a bool", v -> v.value() instanceof Boolean b ? b : null); }

    /** Metadata {@code key} as an array of strings, if present. */
    @SuppressWarnings("unchecked")
    public Optional<List<String>> strings(String key) {
        return typed(key, "an array of strings", v -> v.type() == GgufValueType.ARRAY && v.elementType() == GgufValueType.STRING
                ? (List<String>) v.asList() : null);
    }

    /** Metadata {@code key} as an array of integers (any width), if present. */
    @SuppressWarnings("unchecked")
    public Optional<List<Long>> integers(String key) {
        return typed(key, "an array of integers", v -> v.type() == GgufValueType.ARRAY && v.elementType().isInteger()
                ? (List<Long>) v.asList() : null);
    }

    /** Metadata {@code key} as an array of floats, if present. */
    @SuppressWarnings("unchecked")
    public Optional<List<Double>> floats(String key) {
        return typed(key, "an array of floats", v -> v.type() == GgufValueType.ARRAY
                && (v.elementType() == GgufValueType.FLOAT32 || v.elementType() == GgufValueType.FLOAT64) ? (List<Double>) v.asList() : null);
    }

    private <T> Optional<T> typed(String key, String expected, java.util.function.Function<GgufValue, T> convert) {
        GgufValue v = metadata.get(key);
        if (v == null) return Optional.empty();
        T t = convert.apply(v);
        if (t == null) {
            throw new FormatException(path(), key + " must be " + expected + ", is " + v.type()
                    + (v.type() == GgufValueType.ARRAY ? " of " + v.elementType() : ""));
        }
        return Optional.of(t);
    }
}
