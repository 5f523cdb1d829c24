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

    public GpuDecoder(CudaContext ctx) {
        this.ctx = ctx;
        this.launcher = new HuffmanDecodeLauncher(ctx);
    }

    /**
     * A coded tensor resident on the GPU (bitstream, chunk index, decode table, scales, error word),
     * ready to be decoded any number of times. Close it to free its device memory.
     */
    public final class Prepared implements AutoCloseable {
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

        public EntroEntry.Coded entry() { return entry; }

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

    /** Decodes {@code entry} into a new device tensor of {@code type}; the caller closes it. */
    public DeviceTensor decode(EntroFile file, EntroEntry.Coded entry, OutputType type, CudaStream stream) {
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
    public void decodeInto(EntroFile file, EntroEntry.Coded e, OutputType type, DeviceBuffer out, CudaStream stream) {
        try (Prepared p = prepare(file, e)) {
            p.launch(type, out, stream);
            stream.synchronize();
            p.checkError();
        }
    }
}
