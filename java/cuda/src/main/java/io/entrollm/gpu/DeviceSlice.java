package io.entrollm.gpu;

import jcuda.driver.CUdeviceptr;

/** A byte range of a {@link DeviceBuffer} (a row range of a fused weight, a position range of a cache). */
public record DeviceSlice(DeviceBuffer buffer, long offset, long bytes) {
    public DeviceSlice {
        if (offset < 0 || bytes < 0 || offset + bytes > buffer.bytes()) {
            throw new IllegalArgumentException("slice [" + offset + ", +" + bytes + ") outside a buffer of " + buffer.bytes() + " bytes");
        }
    }

    public long address() { return buffer.address() + offset; }

    public CUdeviceptr pointer() { return (CUdeviceptr) buffer.pointer().withByteOffset(offset); }
}
