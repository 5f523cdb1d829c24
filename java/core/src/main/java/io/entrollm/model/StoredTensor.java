package io.entrollm.model;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.HuffmanDecoder;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.codec.SymbolPacking;
import io.entrollm.format.FormatException;
import io.entrollm.quant.AppliedScheme;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.Quantizer;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * How one tensor is stored, the one owner of that knowledge: every consumer (the residency planner,
 * the GPU decoders, inference) asks a {@link ModelSource} for {@link ModelSource#stored} and switches
 * over these forms instead of reaching into a container format. Memory segments are slices of the
 * source's mapping, valid while the source is open.
 */
public sealed interface StoredTensor permits StoredTensor.Quantized, StoredTensor.Raw, StoredTensor.GgmlBlocks {
    String name();

    /** Row-major shape, Hugging Face layout. */
    long[] shape();

    default long elementCount() { return Tensor.elementCount(shape()); }

    /** The weights as float32 by the reference formulas (a copy). */
    float[] dequantize();

    /** The stored form of a tensor that is not quantized by us: as stored, or GGML blocks. */
    static StoredTensor of(Tensor t) { return t.dtype().isBlockQuantized() ? new GgmlBlocks(t) : new Raw(t); }

    /**
     * Integer symbols with scales (and zeros) per group of {@code groupSize} symbols (EntroLLM's
     * quantization); {@code params} holds float32 scales[groups], then for asym zeros[groups].
     */
    sealed interface Quantized extends StoredTensor permits Coded, Packed {
        /** The file it came from, for messages. */
        Path file();

        DType sourceDtype();

        int bits();

        AppliedScheme scheme();

        Granularity granularity();

        long groupSize();

        int sign();

        /** The PARAMS section as stored: scales[groups], then for ASYM zeros[groups], each of {@link #paramsDtype()}. */
        MemorySegment params();

        /** F32 or F16. */
        DType paramsDtype();

        /** The integer symbols, one per byte, checked to be below 2^bits. */
        byte[] symbols();

        default long groups() { return elementCount() == 0 ? 0 : elementCount() / groupSize(); }

        default float[] scales() { return paramFloats(0); }

        default float[] zeros() { return scheme() == AppliedScheme.ASYM ? paramFloats(groups()) : new float[0]; }

        /** {@link #params()} as float32, the form the GPU kernels read (the stored bytes when they are f32 already). */
        default MemorySegment paramsF32() {
            if (paramsDtype() == DType.F32) return params();
            float[] all = paramFloats(0, params().byteSize() / 2);
            return MemorySegment.ofArray(all);
        }

        private float[] paramFloats(long first) { return paramFloats(first, groups()); }

        private float[] paramFloats(long first, long count) {
            float[] out = new float[Math.toIntExact(count)];
            if (paramsDtype() == DType.F32) MemorySegment.copy(params(), TensorReader.F32, 4 * first, out, 0, out.length);
            else for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(params().get(TensorReader.I16, 2 * (first + i)));
            return out;
        }

        @Override
        default float[] dequantize() {
            byte[] symbols = symbols();
            float[] scales = scales(), zeros = zeros(), out = new float[symbols.length];
            int parts = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors() * 4, symbols.length / 65536));
            IntStream.range(0, parts).parallel().forEach(k -> {
                int from = (int) ((long) symbols.length * k / parts), to = (int) ((long) symbols.length * (k + 1) / parts);
                Quantizer.dequantizeInto(scheme(), bits(), symbols, from, to, scales, zeros, sign(), groupSize(), out);
            });
            return out;
        }

        default void checkSymbols(byte[] symbols, String what) {
            int limit = 1 << bits();
            for (byte s : symbols) {
                if ((s & 0xFF) >= limit) throw FormatException.forTensor(file(), name(), what + " symbol " + (s & 0xFF) + " exceeds " + bits() + " bits");
            }
        }
    }

    /** Huffman-coded symbols in independently decodable chunks (docs/FORMAT.md); chunkIndex: u64 starting bit per chunk. */
    record Coded(Path file, String name, long[] shape, DType sourceDtype, int bits, AppliedScheme scheme, Granularity granularity,
                 long groupSize, int sign, MemorySegment params, DType paramsDtype, HuffmanCodebook codebook, int chunkSymbols, long totalBits,
                 MemorySegment chunkIndex, MemorySegment bitstream) implements Quantized {

        public int chunks() { return HuffmanStream.chunkCount(elementCount(), chunkSymbols); }

        public int maxCodeLength() { return codebook.maxLength(); }

        /** The stream as the CPU decoder reads it (copies of the chunk index and the words). */
        public HuffmanStream stream() {
            return new HuffmanStream(codebook, elementCount(), chunkSymbols, chunkIndex.toArray(TensorReader.I64), bitstream.toArray(TensorReader.I32), totalBits);
        }

        /** Decoded on all cores; a corrupt stream is a {@link FormatException} naming the file and tensor. */
        @Override
        public byte[] symbols() {
            byte[] symbols = new byte[Math.toIntExact(elementCount())];
            decodeInto(symbols);
            return symbols;
        }

        /** Decodes into {@code out[0, elementCount)} on all cores (a large tensor with small buffers: {@link #decodeChunks}). */
        public void decodeInto(byte[] out) { decodeChecked(stream(), out, bits, file, name); }

        /** Bit where chunk {@code c} starts ({@code totalBits} for {@code c == chunks()}). */
        public long chunkStartBit(int c) { return c == chunks() ? totalBits : chunkIndex.getAtIndex(TensorReader.I64, c); }

        /** Words {@link #decodeChunks} needs for chunks {@code [firstChunk, endChunk)}. */
        public int chunkWords(int firstChunk, int endChunk) {
            return HuffmanStream.wordCount(chunkStartBit(endChunk) - chunkStartBit(firstChunk));
        }

        /**
         * Decodes chunks {@code [firstChunk, endChunk)} on all cores into {@code out[0, ...)} (their symbols, from
         * symbol {@code firstChunk * chunkSymbols} of the tensor), with {@code words} (at least {@link #chunkWords}
         * long) as the buffer for their bits: a large tensor decodes a piece at a time through small buffers.
         * Errors name the tensor's own chunk numbers.
         */
        public void decodeChunks(int firstChunk, int endChunk, byte[] out, int[] words) {
            long base = chunkStartBit(firstChunk), bits = chunkStartBit(endChunk) - base;
            int count = HuffmanStream.wordCount(bits);
            // the piece's bits shifted to start at bit 0 of words[0] (a stream's first chunk starts at bit 0);
            // words past the bitstream read as zero
            long streamWords = bitstream.byteSize() / 4, w = base >>> 5;
            int skip = (int) (base & 31), present = (int) Math.max(0, Math.min(count, streamWords - w));
            // one bulk copy of the words into words[0..], then shifted in place
            MemorySegment.copy(bitstream, TensorReader.I32, 4 * w, words, 0, present);
            Arrays.fill(words, present, count, 0);
            int after = w + count < streamWords ? bitstream.getAtIndex(TensorReader.I32, w + count) : 0;
            if (skip != 0) {
                for (int i = 0; i < count - 1; i++) words[i] = words[i] << skip | words[i + 1] >>> (32 - skip);
                words[count - 1] = words[count - 1] << skip | after >>> (32 - skip);
            }
            long[] offsets = new long[endChunk - firstChunk];
            for (int c = firstChunk; c < endChunk; c++) offsets[c - firstChunk] = chunkStartBit(c) - base;
            long symbols = Math.min(elementCount(), (long) endChunk * chunkSymbols) - (long) firstChunk * chunkSymbols;
            decodeChecked(new HuffmanStream(codebook, symbols, chunkSymbols, offsets, words, bits), firstChunk, out, bits(), file, name);
        }

        /**
         * Decodes {@code stream} into {@code out} on all cores and checks every symbol is below 2^bits; a corrupt stream or
         * symbol is a {@link FormatException} naming {@code file} and tensor {@code name}. Every Huffman-coded tensor
         * of a .entro file (ours and GGML blocks kept as they are) is decoded through here.
         */
        public static void decodeChecked(HuffmanStream stream, byte[] out, int bits, Path file, String name) {
            decodeChecked(stream, 0, out, bits, file, name);
        }

        /** Whether the codebook has a code for a symbol of {@code limit} or more. */
        private static boolean codesAbove(HuffmanCodebook codebook, int limit) {
            for (int v = limit; v < codebook.alphabetSize(); v++) if (codebook.length(v) != 0) return true;
            return false;
        }

        /** As above, for a stream holding a tensor's chunks from {@code firstChunk} on (errors count chunks from there). */
        private static void decodeChecked(HuffmanStream stream, int firstChunk, byte[] out, int bits, Path file, String name) {
            try {
                HuffmanDecoder.decodeInto(stream, out);
            } catch (HuffmanDecoder.CorruptStreamException e) {
                throw FormatException.forTensor(file, name, "corrupt bitstream: " + e.renumbered(firstChunk).getMessage());
            }
            // a decoded symbol is one the codebook has a code for: when none of those exceeds the bits, nothing can
            if (bits >= 8 || !codesAbove(stream.codebook(), 1 << bits)) return;
            int n = Math.toIntExact(stream.symbolCount()), any = 0;
            for (int i = 0; i < n; i++) any |= out[i];           // one vectorized pass; the loop below only on failure
            if ((any & 0xFF) >>> bits == 0) return;
            for (int i = 0; i < n; i++) {
                if ((out[i] & 0xFF) >>> bits != 0) throw FormatException.forTensor(file, name, "decoded symbol " + (out[i] & 0xFF) + " exceeds " + bits + " bits");
            }
        }

        @Override public boolean equals(Object o) { return o instanceof Coded c && c.file.equals(file) && c.name.equals(name); }

        @Override public int hashCode() { return name.hashCode(); }

        @Override public String toString() { return "Coded[" + name + " " + Arrays.toString(shape) + ", " + bits + " bits]"; }
    }

    /** Packed symbols: one per byte (5..8 bits) or two per byte, low nibble first (2..4 bits). */
    record Packed(Path file, String name, long[] shape, DType sourceDtype, int bits, AppliedScheme scheme, Granularity granularity,
                  long groupSize, int sign, MemorySegment params, DType paramsDtype, MemorySegment packed) implements Quantized {

        @Override
        public byte[] symbols() {
            byte[] symbols = SymbolPacking.unpack(packed.toArray(ValueLayout.JAVA_BYTE), bits, Math.toIntExact(elementCount()));
            checkSymbols(symbols, "packed");
            return symbols;
        }

        @Override public boolean equals(Object o) { return o instanceof Packed p && p.file.equals(file) && p.name.equals(name); }

        @Override public int hashCode() { return name.hashCode(); }

        @Override public String toString() { return "Packed[" + name + " " + Arrays.toString(shape) + ", " + bits + " bits]"; }
    }

    /** Unquantized, as stored (f32, f16, bf16, or any other element type that is not a GGML block). */
    record Raw(Tensor tensor) implements StoredTensor {
        @Override public String name() { return tensor.name(); }

        @Override public long[] shape() { return tensor.shape(); }

        @Override public float[] dequantize() { return TensorReader.toFloats(tensor); }
    }

    /** GGML block-quantized (Q8_0, Q4_0, Q4_1) as stored. */
    record GgmlBlocks(Tensor tensor) implements StoredTensor {
        @Override public String name() { return tensor.name(); }

        @Override public long[] shape() { return tensor.shape(); }

        @Override public float[] dequantize() { return TensorReader.toFloats(tensor); }
    }
}
