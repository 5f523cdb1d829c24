package io.entrollm.analysis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a file no faster than a given rate, to check the load-time model against a real read: the
 * bytes come in blocks, and after each block the reader sleeps until the wall-clock time matches the
 * target rate (a token bucket with no burst beyond one block).
 */
public final class BandwidthLimitedReader {
    private static final int BLOCK = 256 * 1024;

    private BandwidthLimitedReader() {}

    /** Reads the whole file at about {@code bytesPerSecond}; returns its bytes. */
    public static byte[] readAll(Path file, double bytesPerSecond) throws IOException {
        if (bytesPerSecond <= 0) throw new IllegalArgumentException("bandwidth must be positive");
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(file + " is too large to read into one array");
        byte[] out = new byte[(int) size];
        long start = System.nanoTime();
        try (InputStream in = Files.newInputStream(file)) {
            int pos = 0;
            while (pos < out.length) {
                int n = in.read(out, pos, Math.min(BLOCK, out.length - pos));
                if (n < 0) throw new IOException(file + ": ended after " + pos + " of " + size + " bytes");
                pos += n;
                long due = start + (long) (pos / bytesPerSecond * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted", e);
                    }
                }
            }
        }
        return out;
    }
}
