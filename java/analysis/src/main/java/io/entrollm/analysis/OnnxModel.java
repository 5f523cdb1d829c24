package io.entrollm.analysis;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.entrollm.format.FormatException;
import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The weights (graph initializers) of an ONNX model, read with protobuf's wire-format reader; a
 * .jar holding one .onnx entry (as langchain4j's embedding-model jars do) is read too.
 *
 * <p>Fields used (onnx.proto3): ModelProto {1 ir_version, 7 graph}; GraphProto {5 initializer};
 * TensorProto {1 dims (int64, packed or not), 2 data_type, 4 float_data, 5 int32_data, 7 int64_data,
 * 8 name, 9 raw_data, 14 data_location}. raw_data is little-endian; int8/uint8/int16/float16/bfloat16
 * values in int32_data are one per int32. Externally stored data (data_location = 1) is rejected.
 */
public final class OnnxModel implements ModelSource {
    private final Path path;
    private final long irVersion;
    private final Arena arena;
    private final List<Tensor> tensors;

    private OnnxModel(Path path, long irVersion, Arena arena, List<Tensor> tensors) {
        this.path = path;
        this.irVersion = irVersion;
        this.arena = arena;
        this.tensors = tensors;
    }

    public static OnnxModel open(Path path) throws IOException {
        byte[] bytes = path.getFileName().toString().endsWith(".jar") ? onnxFromJar(path) : Files.readAllBytes(path);
        Arena arena = Arena.ofShared();
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setSizeLimit(Integer.MAX_VALUE);
            long ir = -1;
            List<Tensor> tensors = new ArrayList<>();
            boolean graph = false;
            for (int tag; (tag = in.readTag()) != 0; ) {
                int field = WireFormat.getTagFieldNumber(tag);
                if (field == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                    ir = in.readInt64();
                } else if (field == 7 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    graph = true;
                    int limit = in.pushLimit(in.readRawVarint32());
                    readGraph(path, in, arena, tensors);
                    in.popLimit(limit);
                } else {
                    in.skipField(tag);
                }
            }
            if (ir < 0 || !graph) throw new FormatException(path, "not an ONNX model (no ir_version or no graph)");
            return new OnnxModel(path, ir, arena, List.copyOf(tensors));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            arena.close();
            throw new FormatException(path, "not a valid ONNX protobuf: " + e.getMessage());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static byte[] onnxFromJar(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry onnx = zip.stream().filter(e -> e.getName().endsWith(".onnx")).findFirst()
                    .orElseThrow(() -> new FormatException(jar, "the jar holds no .onnx file"));
            try (InputStream in = zip.getInputStream(onnx)) {
                return in.readAllBytes();
            }
        }
    }

    private static void readGraph(Path path, CodedInputStream in, Arena arena, List<Tensor> out) throws IOException {
        for (int tag; (tag = in.readTag()) != 0; ) {
            if (WireFormat.getTagFieldNumber(tag) == 5 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = in.pushLimit(in.readRawVarint32());
                out.add(readTensor(path, in, arena));
                in.popLimit(limit);
            } else {
                in.skipField(tag);
            }
        }
    }

    private static Tensor readTensor(Path path, CodedInputStream in, Arena arena) throws IOException {
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        byte[] raw = null;
        List<Float> floats = new ArrayList<>();
        List<Integer> int32s = new ArrayList<>();
        List<Long> int64s = new ArrayList<>();
        for (int tag; (tag = in.readTag()) != 0; ) {
            int field = WireFormat.getTagFieldNumber(tag), wire = WireFormat.getTagWireType(tag);
            boolean packed = wire == WireFormat.WIRETYPE_LENGTH_DELIMITED;
            switch (field) {
                case 1 -> readRepeated(in, packed, () -> dims.add(in.readInt64()));
                case 2 -> dataType = in.readInt32();
                case 4 -> readRepeated(in, packed, () -> floats.add(in.readFloat()));
                case 5 -> readRepeated(in, packed, () -> int32s.add(in.readInt32()));
                case 7 -> readRepeated(in, packed, () -> int64s.add(in.readInt64()));
                case 8 -> name = in.readString();
                case 9 -> raw = in.readByteArray();
                case 14 -> {
                    if (in.readInt32() == 1) throw new FormatException(path, "initializer stores its data externally; not supported");
                }
                default -> in.skipField(tag);
            }
        }
        String tensorName = name;
        DType dtype = switch (dataType) {
            case 1 -> DType.F32;
            case 2 -> DType.U8;
            case 3 -> DType.I8;
            case 5 -> DType.I16;
            case 6 -> DType.I32;
            case 7 -> DType.I64;
            case 9 -> DType.BOOL;
            case 10 -> DType.F16;
            case 11 -> DType.F64;
            case 16 -> DType.BF16;
            default -> throw FormatException.forTensor(path, tensorName, "ONNX data type " + dataType + " is not supported");
        };
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long elements;
        try {
            elements = Tensor.elementCount(shape);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw FormatException.forTensor(path, tensorName, "bad dims " + dims);
        }
        long bytes = dtype.byteSize(elements);
        MemorySegment seg = arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes);
        if (raw != null) {
            if (raw.length != bytes) throw FormatException.forTensor(path, tensorName, "raw_data holds " + raw.length + " bytes, dims need " + bytes);
            MemorySegment.copy(MemorySegment.ofArray(raw), 0, seg, 0, bytes);
        } else {
            ByteBuffer b = seg.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            long count = dtype == DType.F32 ? floats.size() : dtype == DType.I64 ? int64s.size() : int32s.size();
            if (count != elements) throw FormatException.forTensor(path, tensorName, count + " typed values, dims need " + elements);
            switch (dtype) {
                case F32 -> floats.forEach(b::putFloat);
                case I64 -> int64s.forEach(b::putLong);
                case I32 -> int32s.forEach(b::putInt);
                case I8, U8, BOOL -> int32s.forEach(v -> b.put((byte) (int) v));
                case I16, F16, BF16 -> int32s.forEach(v -> b.putShort((short) (int) v));
                default -> throw FormatException.forTensor(path, tensorName, dtype + " values outside raw_data are not supported");
            }
        }
        return new Tensor(tensorName, dtype, shape, seg);
    }

    private interface IoAction { void run() throws IOException; }

    private static void readRepeated(CodedInputStream in, boolean packed, IoAction one) throws IOException {
        if (!packed) {
            one.run();
            return;
        }
        int limit = in.pushLimit(in.readRawVarint32());
        while (in.getBytesUntilLimit() > 0) one.run();
        in.popLimit(limit);
    }

    @Override public Path path() { return path; }

    @Override public String formatDescription() { return "ONNX (IR version " + irVersion + ")"; }

    @Override public Optional<ModelConfig> config() { return Optional.empty(); }

    @Override public List<Tensor> tensors() { return tensors; }

    @Override public Optional<String> tokenizerJson() { return Optional.empty(); }

    @Override public void close() { arena.close(); }

    /** Registers ONNX files and jars that carry one with {@link ModelSources#open}. */
    public static final class Opener implements ModelSources.Opener {
        @Override
        public boolean recognises(Path path, byte[] head) {
            String n = path.getFileName().toString();
            return n.endsWith(".onnx") || (n.endsWith(".jar") && head.length >= 2 && head[0] == 'P' && head[1] == 'K');
        }

        @Override public ModelSource open(Path path) throws IOException { return OnnxModel.open(path); }
    }
}
