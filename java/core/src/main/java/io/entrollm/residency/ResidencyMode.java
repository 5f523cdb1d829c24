package io.entrollm.residency;

/** Where a GPU session keeps the weights, fastest first. */
public enum ResidencyMode {
    /** Every layer decoded once at load into GPU memory: fastest matmuls, most memory. */
    DECODED,
    /** Coded weights resident on the GPU; each layer decoded into a reusable scratch buffer just before it runs. */
    COMPRESSED,
    /** Coded weights in host memory; each layer copied to the GPU and decoded while the previous one computes. */
    STREAMED
}
