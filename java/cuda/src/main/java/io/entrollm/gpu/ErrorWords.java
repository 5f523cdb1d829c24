package io.entrollm.gpu;

import io.entrollm.format.FormatException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

/**
 * One int32 error word per coded tensor in one device array, so a forward pass checks every decode
 * it ran with a single small download instead of one per tensor. A kernel writes 1 + the index of
 * the first corrupt chunk; zero means the tensor decoded cleanly.
 */
final class ErrorWords implements AutoCloseable {
    private final DeviceBuffer words;
    private final List<String> tensors;
    private final Path file;

    ErrorWords(CudaContext ctx, Path file, List<String> tensors) {
        this.file = file;
        this.tensors = List.copyOf(tensors);
        this.words = DeviceBuffer.allocate(ctx, 4L * Math.max(1, tensors.size()), "decode error words");
        words.zero();
    }

    /** The device address of tensor {@code i}'s word. */
    long address(int i) { return words.address() + 4L * i; }

    /** After the streams are synchronised: throws naming the first tensor whose bitstream proved corrupt. */
    void check() {
        ByteBuffer b = ByteBuffer.wrap(words.downloadBytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < tensors.size(); i++) {
            int chunk = b.getInt(4 * i);
            if (chunk != 0) {
                throw FormatException.forTensor(file, tensors.get(i), "corrupt bitstream: chunk " + (chunk - 1) + " failed to decode on the GPU");
            }
        }
    }

    @Override
    public void close() { words.close(); }
}
