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
        HuffmanCodebook codebook = file.codebook(e);
        int tableBits = Math.max(1, codebook.maxLength());
        short[] table = codebook.decodeTable(tableBits);
        ByteBuffer tableBytes = ByteBuffer.allocateDirect(table.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        tableBytes.asShortBuffer().put(table);
        MemorySegment params = file.sectionBytes(e.paramsSection());
        long groups = e.groups();
        try (DeviceBuffer words = DeviceBuffer.copyOf(ctx, file.sectionBytes(e.bitstreamSection()), "bitstream of '" + e.name() + "'");
             DeviceBuffer index = DeviceBuffer.copyOf(ctx, file.sectionBytes(e.chunkIndexSection()), "chunk index of '" + e.name() + "'");
             DeviceBuffer dTable = DeviceBuffer.copyOf(ctx, MemorySegment.ofBuffer(tableBytes), "decode table of '" + e.name() + "'");
             DeviceBuffer dParams = DeviceBuffer.copyOf(ctx, params, "scales of '" + e.name() + "'");
             DeviceBuffer error = DeviceBuffer.allocate(ctx, 4, "error flag")) {
            error.zero();
            long scales = dParams.address();
            long zeros = e.scheme() == AppliedScheme.ASYM ? scales + groups * 4 : scales;
            DecodeParams p = new DecodeParams(words.address(), index.address(), dTable.address(), scales, zeros, e.totalBits(),
                    e.elementCount(), e.groupSize(), e.chunkSymbols(), e.chunks(), tableBits, e.bits(), e.scheme().id(), e.sign(),
                    error.address());
            launcher.launch(type, p, out, stream);
            stream.synchronize();
            byte[] flag = error.downloadBytes();
            int chunk = ByteBuffer.wrap(flag).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (chunk != 0) {
                throw FormatException.forTensor(file.path(), e.name(), "corrupt bitstream: chunk " + (chunk - 1) + " failed to decode on the GPU");
            }
        }
    }
}
