package io.entrollm.io;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.Optional;

/**
 * Tells the kernel that this process no longer needs the pages of a read-only file mapping (Linux
 * {@code madvise(MADV_DONTNEED)}): they leave its resident set, stay in the page cache, and fault back
 * in if read again, so the contents are never lost. Used after a coded tensor has been decoded, whose
 * bitstream the process will not read again. Only whole pages inside the segment are released; on
 * other systems, or where the call is unavailable, it does nothing.
 */
public final class PageRelease {
    private static final int MADV_DONTNEED = 4;   // Linux, every architecture
    private static final long PAGE = 4096;
    private static final Optional<MethodHandle> MADVISE = lookup();

    private PageRelease() {}

    private static Optional<MethodHandle> lookup() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) return Optional.empty();
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("madvise").map(addr -> linker.downcallHandle(addr,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)));
        } catch (RuntimeException | LinkageError e) {   // native access not enabled, or no such symbol: keep the pages
            return Optional.empty();
        }
    }

    /** Releases the whole pages of a mapped, read-only {@code segment}; returns the bytes released (0 if none or unsupported). */
    public static long release(MemorySegment segment) {
        if (MADVISE.isEmpty() || !segment.isNative()) return 0;
        long start = (segment.address() + PAGE - 1) & -PAGE, end = (segment.address() + segment.byteSize()) & -PAGE;
        if (end <= start) return 0;
        try {
            int rc = (int) MADVISE.get().invokeExact(MemorySegment.ofAddress(start), end - start, MADV_DONTNEED);
            return rc == 0 ? end - start : 0;
        } catch (Throwable t) {
            return 0;
        }
    }
}
