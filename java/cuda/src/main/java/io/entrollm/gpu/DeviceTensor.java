package io.entrollm.gpu;

/** A tensor in GPU memory: its buffer, row-major shape and element type. Closing frees the buffer. */
public record DeviceTensor(String name, long[] shape, OutputType type, DeviceBuffer buffer) implements AutoCloseable {
    @Override
    public void close() { buffer.close(); }
}
