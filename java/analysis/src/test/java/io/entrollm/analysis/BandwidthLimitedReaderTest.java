package io.entrollm.analysis;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class BandwidthLimitedReaderTest {
    @TempDir Path tmp;

    @Test
    void holdsItsRateWithinTenPercentOnA64MiBFile() throws IOException {
        byte[] data = new byte[64 << 20];
        new Random(1).nextBytes(data);
        Path f = tmp.resolve("64m.bin");
        Files.write(f, data);
        Files.readAllBytes(f); // warm the page cache: the test is about the limiter, not the disk
        for (double mbps : new double[] {100, 250}) {
            long t0 = System.nanoTime();
            byte[] back = BandwidthLimitedReader.readAll(f, mbps * 1e6);
            double seconds = (System.nanoTime() - t0) / 1e9;
            double actual = data.length / seconds / 1e6;
            assertThat(actual).as("MB/s at a %.0f MB/s limit", mbps).isBetween(0.9 * mbps, 1.1 * mbps);
            assertArrayEquals(data, back);
        }
    }
}
