package io.entrollm.quant;

/**
 * Integer symbols of one tensor plus what is needed to turn them back into weights.
 *
 * @param symbols      one unsigned symbol per weight, in [0, 2^bits), row-major
 * @param scales       one scale per group (groups in row-major order)
 * @param zeros        one zero (the group minimum) per group for {@link AppliedScheme#ASYM}, else empty
 * @param sign         +1 or -1: the common sign of an {@link AppliedScheme#UNSIGNED} tensor, else +1
 * @param groupSize    weights per scale
 */
public record QuantizedTensor(String name, long[] shape, int bits, AppliedScheme scheme, Granularity granularity,
                              byte[] symbols, float[] scales, float[] zeros, int sign, long groupSize) {

    public QuantizedTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() { return shape.clone(); }

    public int elementCount() { return symbols.length; }
}
