package io.entrollm.gpu;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.container.EntroEntry;
import io.entrollm.container.EntroFile;
import io.entrollm.format.FormatException;
import io.entrollm.quant.AppliedScheme;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Decodes Huffman-coded tensors of a .entro file straight into GPU memory: the file's sections
 * (bitstream, chunk index, scales, zeros) are copied to the device as they lie in the mapping, the
 * decode table is built on the host from the codebook, and one kernel decodes and dequantizes.
 * A corrupt chunk, reported by the kernel, becomes a {@link FormatException} naming the tensor.
 */
public final class GpuDecoder {
    private final CudaContext ctx;
    private final HuffmanDecodeLauncher launcher;
    private final PackedDecodeLauncher packedLauncher;

    public GpuDecoder(CudaContext ctx) {
        this.ctx = ctx;
        this.launcher = new HuffmanDecodeLauncher(ctx);
        this.packedLauncher = new PackedDecodeLauncher(ctx);
    }

    /** A quantized tensor resident on the GPU in its stored form, ready to be decoded any number of times. */
    public interface ResidentTensor extends AutoCloseable {
        EntroEntry.Quantized entry();

        /** Device bytes it occupies in its stored form. */
        long deviceBytes();

        /** Launches the decode into {@code out} on {@code stream} without waiting. */
        void launch(OutputType type, DeviceBuffer out, CudaStream stream);

        /** After the stream is synchronised: throws if the data proved corrupt. */
        void checkError();

        @Override
        void close();
    }

    /** A packed tensor on the GPU: its PACKED and PARAMS sections as they lie in the file. */
    public final class PreparedPacked implements ResidentTensor {
        private final EntroEntry.Packed entry;
        private final DeviceBuffer packed, params;
        private final UnpackParams p;

        private PreparedPacked(EntroFile file, EntroEntry.Packed e) {
            this.entry = e;
            DeviceBuffer k = DeviceBuffer.copyOf(ctx, file.sectionBytes(e.packedSection()), "packed symbols of '" + e.name() + "'");
            try {
                params = DeviceBuffer.copyOf(ctx, file.sectionBytes(e.paramsSection()), "scales of '" + e.name() + "'");
            } catch (RuntimeException ex) {
                k.close();
                throw ex;
            }
            packed = k;
            long scales = params.address();
            long zeros = e.scheme() == AppliedScheme.ASYM ? scales + e.groups() * 4 : scales;
            p = new UnpackParams(packed.address(), scales, zeros, e.elementCount(), e.groupSize(), e.bits(), e.scheme().id(), e.sign());
        }

        @Override public EntroEntry.Quantized entry() { return entry; }

        @Override public long deviceBytes() { return packed.bytes() + params.bytes(); }

        @Override public void launch(OutputType type, DeviceBuffer out, CudaStream stream) { packedLauncher.launch(type, p, out, stream); }

        @Override public void checkError() { } // every byte is a valid symbol; the file's CRC guarded the bytes

        @Override
        public void close() {
            packed.close();
            params.close();
        }
    }

    /**
     * A coded tensor resident on the GPU (bitstream, chunk index, decode table, scales, error word),
     * ready to be decoded any number of times. Close it to free its device memory.
     */
    public final class Prepared implements ResidentTensor {
        final EntroFile file;
        final EntroEntry.Coded entry;
        final DeviceBuffer words, index, table, params, error;
        final DecodeParams params0;

        private Prepared(EntroFile file, EntroEntry.Coded e) {
            this.file = file;
            this.entry = e;
            HuffmanCodebook codebook = file.codebook(e);
            int tableBits = Math.max(1, codebook.maxLength());
            short[] t = codebook.decodeTable(tableBits);
            ByteBuffer tableBytes = ByteBuffer.allocateDirect(t.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            tableBytes.asShortBuffer().put(t);
            DeviceBuffer w = null, x = null, tb = null, p = null, err = null;
            try {
                w = DeviceBuffer.copyOf(ctx, file.sectionBytes(e.bitstreamSection()), "bitstream of '" + e.name() + "'");
                x = DeviceBuffer.copyOf(ctx, file.sectionBytes(e.chunkIndexSection()), "chunk index of '" + e.name() + "'");
                tb = DeviceBuffer.copyOf(ctx, MemorySegment.ofBuffer(tableBytes), "decode table of '" + e.name() + "'");
                p = DeviceBuffer.copyOf(ctx, file.sectionBytes(e.paramsSection()), "scales of '" + e.name() + "'");
                err = DeviceBuffer.allocate(ctx, 4, "error flag");
                err.zero();
            } catch (RuntimeException ex) {
                for (DeviceBuffer b : new DeviceBuffer[] {w, x, tb, p, err}) if (b != null) b.close();
                throw ex;
            }
            words = w;
            index = x;
            table = tb;
            params = p;
            error = err;
            long scales = params.address();
            long zeros = e.scheme() == AppliedScheme.ASYM ? scales + e.groups() * 4 : scales;
            params0 = new DecodeParams(words.address(), index.address(), table.address(), scales, zeros, e.totalBits(),
                    e.elementCount(), e.groupSize(), e.chunkSymbols(), e.chunks(), tableBits, e.bits(), e.scheme().id(), e.sign(),
                    error.address());
        }

        /** Device bytes this tensor occupies in its coded form. */
        public long deviceBytes() { return words.bytes() + index.bytes() + table.bytes() + params.bytes() + error.bytes(); }

        @Override public EntroEntry.Coded entry() { return entry; }

        /** Launches the decode into {@code out} on {@code stream} without waiting. */
        public void launch(OutputType type, DeviceBuffer out, CudaStream stream) { launcher.launch(type, params0, out, stream); }

        /** After the stream is synchronised: throws if the kernel found a corrupt chunk. */
        public void checkError() {
            int chunk = ByteBuffer.wrap(error.downloadBytes()).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (chunk != 0) {
                throw FormatException.forTensor(file.path(), entry.name(), "corrupt bitstream: chunk " + (chunk - 1) + " failed to decode on the GPU");
            }
        }

        @Override
        public void close() {
            for (DeviceBuffer b : new DeviceBuffer[] {words, index, table, params, error}) b.close();
        }
    }

    /** Uploads a coded tensor's sections; the caller closes the result. */
    public Prepared prepare(EntroFile file, EntroEntry.Coded entry) { return new Prepared(file, entry); }

    /** Uploads a quantized tensor (Huffman-coded or packed) in its stored form; the caller closes the result. */
    public ResidentTensor prepare(EntroFile file, EntroEntry.Quantized entry) {
        return switch (entry) {
            case EntroEntry.Coded c -> new Prepared(file, c);
            case EntroEntry.Packed p -> new PreparedPacked(file, p);
        };
    }

    /** Decodes {@code entry} into a new device tensor of {@code type}; the caller closes it. */
    public DeviceTensor decode(EntroFile file, EntroEntry.Quantized entry, OutputType type, CudaStream stream) {
        DeviceBuffer out = DeviceBuffer.allocate(ctx, entry.elementCount() * type.bytesPerElement(), "tensor '" + entry.name() + "'");
        try {
            decodeInto(file, entry, type, out, stream);
            return new DeviceTensor(entry.name(), entry.shape(), type, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    /** Decodes into an existing buffer (a reusable scratch buffer, in the streaming modes). */
    public void decodeInto(EntroFile file, EntroEntry.Quantized e, OutputType type, DeviceBuffer out, CudaStream stream) {
        try (ResidentTensor p = prepare(file, e)) {
            p.launch(type, out, stream);
            stream.synchronize();
            p.checkError();
        }
    }
}
