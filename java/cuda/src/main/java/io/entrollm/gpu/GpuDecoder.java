package io.entrollm.gpu;

import io.entrollm.model.StoredTensor;
import io.entrollm.residency.WeightBlock;

import java.util.List;

/**
 * Decodes quantized tensors ({@link StoredTensor.Quantized}) straight into GPU memory: the tensor's stored form (a
 * one-tensor {@link WeightBlock}: bitstream, chunk index, decode table built on the host from the
 * codebook, and scales; or packed symbols and scales) is uploaded as it lies in the mapping, and one
 * kernel decodes and dequantizes ({@link BlockDecoder}). A corrupt chunk, reported by the kernel,
 * becomes a {@link io.entrollm.format.FormatException} naming the tensor.
 */
public final class GpuDecoder {
    private final CudaContext ctx;
    private final BlockDecoder decoder;

    public GpuDecoder(CudaContext ctx) {
        this.ctx = ctx;
        this.decoder = new BlockDecoder(ctx);
    }

    /** A quantized tensor resident on the GPU in its stored form, ready to be decoded any number of times. */
    public final class Prepared implements AutoCloseable {
        private final WeightBlock block;
        private final DeviceBuffer bytes;
        private final ErrorWords error;

        private Prepared(StoredTensor.Quantized tensor) {
            block = WeightBlock.of(-1, List.of(tensor));
            bytes = WeightBlocks.upload(ctx, block);
            try {
                error = new ErrorWords(ctx, tensor.file(), List.of(tensor.name()));
            } catch (RuntimeException e) {
                bytes.close();
                throw e;
            }
        }

        /** Device bytes it occupies in its stored form (pieces 256-byte aligned, plus its error word). */
        public long deviceBytes() { return bytes.bytes() + 4; }

        /** Launches the decode into {@code out} on {@code stream} without waiting. */
        public void launch(OutputType type, DeviceBuffer out, CudaStream stream) {
            decoder.launch(block.tensors().get(0), bytes.whole(), error.address(0), type, out, stream);
        }

        /** After the stream is synchronised: throws if the kernel found a corrupt chunk. */
        public void checkError() { error.check(); }

        @Override
        public void close() {
            bytes.close();
            error.close();
        }
    }

    /** Uploads a quantized tensor (Huffman-coded or packed) in its stored form; the caller closes the result. */
    public Prepared prepare(StoredTensor.Quantized tensor) { return new Prepared(tensor); }

    /** Decodes {@code tensor} into a new device tensor of {@code type}; the caller closes it. */
    public DeviceTensor decode(StoredTensor.Quantized tensor, OutputType type, CudaStream stream) {
        DeviceBuffer out = DeviceBuffer.allocate(ctx, tensor.elementCount() * type.bytesPerElement(), "tensor '" + tensor.name() + "'");
        try (Prepared p = prepare(tensor)) {
            p.launch(type, out, stream);
            stream.synchronize();
            p.checkError();
            return new DeviceTensor(tensor.name(), tensor.shape(), type, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }
}
