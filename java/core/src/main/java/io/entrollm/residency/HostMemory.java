package io.entrollm.residency;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the STREAMED mode should keep the layers when the user leaves it to us: pinned host memory
 * (every layer copied there at load, the fastest) unless that would take more than
 * {@link #PINNED_SHARE} of the memory the OS reports available, in which case the layers are read
 * from the memory-mapped file during each pass (two pinned layers).
 */
public final class HostMemory {
    /** Pinning is refused past this share of the available memory: the rest of the process and the OS need room. */
    public static final double PINNED_SHARE = 0.8;
    private static final Pattern MEM_AVAILABLE = Pattern.compile("(?m)^MemAvailable:\\s+(\\d+) kB$");

    /** The choice and why. */
    public record Choice(StreamSource source, String explanation) {}

    private HostMemory() {}

    /** This process's resident memory (VmRSS of /proc/self/status), when this is Linux. */
    public static OptionalLong residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux
        }
        return OptionalLong.empty();
    }

    /** MemAvailable from /proc/meminfo, when this is Linux. */
    public static OptionalLong availableBytes() {
        try {
            return parseMeminfo(Files.readString(Path.of("/proc/meminfo")));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty(); // not Linux, or an unreadable /proc: no basis to decide, so pin
        }
    }

    static OptionalLong parseMeminfo(String text) {
        Matcher m = MEM_AVAILABLE.matcher(text);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1)) * 1024) : OptionalLong.empty();
    }

    public static Choice choose(ModelFootprint f, OptionalLong available) {
        long pinned = f.pinnedHostBytes(StreamSource.HOST);
        if (available.isEmpty()) {
            return new Choice(StreamSource.HOST, "streaming from pinned host memory (" + ResidencyPlanner.human(pinned) + "; available memory unknown)");
        }
        long limit = (long) (PINNED_SHARE * available.getAsLong());
        if (pinned <= limit) {
            return new Choice(StreamSource.HOST, "streaming from pinned host memory (" + ResidencyPlanner.human(pinned) + " of "
                    + ResidencyPlanner.human(available.getAsLong()) + " available)");
        }
        return new Choice(StreamSource.STORAGE, "streaming from storage: pinning " + ResidencyPlanner.human(pinned) + " would take more than "
                + Math.round(PINNED_SHARE * 100) + "% of the " + ResidencyPlanner.human(available.getAsLong()) + " available; "
                + ResidencyPlanner.human(f.pinnedHostBytes(StreamSource.STORAGE)) + " pinned instead");
    }
}
