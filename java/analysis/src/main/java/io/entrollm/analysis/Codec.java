package io.entrollm.analysis;

/** A lossless general-purpose compressor at one setting, as the analysis uses it. */
public interface Codec {
    /** e.g. {@code zstd-19}, {@code lz4-hc}, {@code brotli-11}. */
    String name();

    byte[] compress(byte[] input);

    /** Decompresses {@code compressed} back to {@code originalLength} bytes. */
    byte[] decompress(byte[] compressed, int originalLength);
}
