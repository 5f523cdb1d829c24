package io.entrollm.gpu;

/**
 * A weight tensor in the form the GPU computes from (cuda-kernels/gemv.cu, entro::WeightParams):
 * float32 (read by cuBLAS and the element-wise kernels), f16 / bf16 as stored, or packed symbols (one
 * or two a byte) with their float32 scales and zeros. What {@link LayerWeights} hands the forward pass.
 *
 * @param data      the tensor's values or symbols (the whole tensor, row-major)
 * @param scales    device address of the packed forms' scales (one float per group), else 0
 * @param zeros     device address of the ASYM zeros (one float per group), else 0
 * @param elements  elements of the tensor
 * @param groupSize packed forms: elements per scale, else 0
 * @param bits      packed forms: quantization bits, else 0
 * @param scheme    packed forms: the scheme id (io.entrollm.quant.AppliedScheme), else 0
 * @param sign      packed UNSIGNED: +1 / -1, else 0
 * @param bytes     GPU bytes a full read of the tensor touches: values or symbols, and scales and zeros
 */
public record GpuWeight(Form form, DeviceSlice data, long scales, long zeros, long elements, long groupSize, int bits, int scheme, int sign, long bytes) {
    /** entro::WeightForm ids (0: float32, which has no id there: it goes to cuBLAS). */
    public enum Form {
        F32(0, 4), U8(1, 1), U4(2, 0.5), F16(3, 2), BF16(4, 2);

        final int id;
        final double bytesPerElement;

        Form(int id, double bytesPerElement) {
            this.id = id;
            this.bytesPerElement = bytesPerElement;
        }

        boolean packed() { return this == U8 || this == U4; }
    }

    /** An unquantized tensor of {@code elements} values of form {@code form} (F32, F16 or BF16) at {@code data}. */
    static GpuWeight plain(Form form, DeviceSlice data, long elements) {
        if (form.packed()) throw new IllegalArgumentException(form + " needs scales");
        return new GpuWeight(form, data, 0, 0, elements, 0, 0, 0, 0, (long) (form.bytesPerElement * elements));
    }

    /** The float32 view of an F32 tensor (norms, biases, the f32 matrices cuBLAS reads). */
    DeviceSlice f32() {
        if (form != Form.F32) throw new IllegalStateException("a " + form + " weight read as float32");
        return data;
    }

    /**
     * Host image of {@code entro::WeightParams} for rows {@code [firstRow, firstRow + rows)} of this
     * tensor seen as a {@code cols}-column matrix (a row range of a fused tensor keeps its group numbering).
     */
    byte[] params(long firstRow, int rows, int cols) {
        if (form == Form.F32) throw new IllegalStateException("float32 weights have no WeightParams");
        if (firstRow < 0 || rows < 0 || cols <= 0 || (firstRow + rows) * (long) cols > elements) {
            throw new IllegalArgumentException("rows [" + firstRow + ", +" + rows + ") x " + cols + " outside a tensor of " + elements + " elements");
        }
        return paramsImage(data.address(), scales, zeros, firstRow * cols, form.packed() ? groupSize : 1, rows, cols, form.id, bits, scheme, sign);
    }

    /** The bytes of {@code entro::WeightParams}, field by field in the header's order (the one place that knows its layout). */
    static byte[] paramsImage(long data, long scales, long zeros, long first, long groupSize, int rows, int cols, int form, int bits, int scheme, int sign) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(WEIGHT_PARAMS_BYTES).order(java.nio.ByteOrder.nativeOrder());
        b.putLong(0, data).putLong(8, scales).putLong(16, zeros).putLong(24, first).putLong(32, groupSize)
                .putInt(40, rows).putInt(44, cols).putInt(48, form).putInt(52, bits).putInt(56, scheme).putInt(60, sign);
        return b.array();
    }

    /** sizeof(entro::WeightParams) (cuda-kernels/entro_format.cuh). */
    static final int WEIGHT_PARAMS_BYTES = 64;
}
