package io.entrollm.analysis;

import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;

/**
 * One quantization setting of the study, or {@link #STORED}: the 8-bit integer weights a model already
 * ships (int8/uint8 ONNX initializers), analysed as they are.
 */
public record AnalysisSetting(int bits, QuantScheme scheme, Granularity granularity) {
    public static final AnalysisSetting STORED = new AnalysisSetting(8, null, Granularity.TENSOR);

    public boolean stored() { return scheme == null; }

    public String label() { return stored() ? "stored int8" : "uint" + bits + " " + scheme.name().toLowerCase() + " " + granularity; }

    public String slug() {
        return stored() ? "stored-int8" : "u" + bits + "-" + scheme.name().toLowerCase() + "-" + granularity.toString().replace(":", "");
    }
}
