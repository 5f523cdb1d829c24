package io.entrollm.residency;

import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

class HostMemoryTest {
    static final long MiB = 1L << 20;
    /** 10 layers of 100 MiB stored: pinning all of them takes 1000 MiB, streaming from storage 200 MiB. */
    static final ModelFootprint MODEL = new ModelFootprint(Collections.nCopies(10, 100 * MiB), Collections.nCopies(10, 400 * MiB), 0, 0, 0);

    @Test
    void pinsWhenItFitsInTheAvailableShare() {
        assertEquals(StreamSource.HOST, HostMemory.choose(MODEL, OptionalLong.of(1250 * MiB)).source());
        HostMemory.Choice c = HostMemory.choose(MODEL, OptionalLong.of(1249 * MiB));
        assertEquals(StreamSource.STORAGE, c.source());
        assertThat(c.explanation()).contains("80%").contains("200.0 MiB pinned instead");
        // nothing known: pin (the pinning itself fails with a clear error if memory runs out)
        assertEquals(StreamSource.HOST, HostMemory.choose(MODEL, OptionalLong.empty()).source());
    }

    @Test
    void readsMemAvailableFromMeminfo() {
        String meminfo = "MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\nBuffers:          100 kB\n";
        assertEquals(OptionalLong.of(20_000_000L * 1024), HostMemory.parseMeminfo(meminfo));
        assertEquals(OptionalLong.empty(), HostMemory.parseMeminfo("MemTotal: 1 kB\n"));
        // on this (Linux) machine the real file parses
        if (java.nio.file.Files.exists(java.nio.file.Path.of("/proc/meminfo"))) assertThat(HostMemory.availableBytes()).isPresent();
    }
}
