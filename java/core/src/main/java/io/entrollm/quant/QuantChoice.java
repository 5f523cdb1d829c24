package io.entrollm.quant;

/**
 * How one tensor is quantized when tensors differ: its bits and its granularity (a per-tensor
 * allocation for a target size chooses these; the scheme and the scale settings stay those of the run).
 */
public record QuantChoice(int bits, Granularity granularity) {
    public QuantChoice {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("bits must be 2..8, is " + bits);
        if (granularity == null) throw new IllegalArgumentException("a granularity must be given");
    }

    @Override
    public String toString() { return bits + ":" + granularity; }
}
