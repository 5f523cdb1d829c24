package io.entrollm.gpu;

/** What a decode kernel writes: raw symbols or dequantized weights, and the kernel that does it. */
public enum OutputType {
    SYMBOLS_U8("entro_decode_symbols_u8", 1),
    F32("entro_decode_dequant_f32", 4),
    F16("entro_decode_dequant_f16", 2),
    BF16("entro_decode_dequant_bf16", 2);

    final String kernel;
    final int bytesPerElement;

    OutputType(String kernel, int bytesPerElement) {
        this.kernel = kernel;
        this.bytesPerElement = bytesPerElement;
    }

    public int bytesPerElement() { return bytesPerElement; }
}
