package io.entrollm.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A whole file mapped read-only into memory. The mapping lives until {@link #close()}; every
 * segment sliced from it becomes invalid then (access afterwards throws instead of crashing).
 */
public final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;

    /** Every open mapping, so a fault in a mapped read can be traced to the file that shrank under it. */
    private static final java.util.Set<MappedFile> OPEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    public static MappedFile open(Path path) throws IOException {
        // the OS would answer "No such device" when mapping a folder
        if (java.nio.file.Files.isDirectory(path)) throw new java.nio.file.FileSystemException(path.toString(), null, "is a folder, not a file");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            MappedFile f = new MappedFile(path, arena, seg);
            OPEN.add(f);
            return f;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Maps {@code path} and hands it to {@code parser}; if parsing fails, the mapping is released before
     * the exception propagates (a parser that succeeds takes ownership of the file).
     */
    public static <T> T openAndParse(Path path, java.util.function.Function<MappedFile, T> parser) throws IOException {
        MappedFile file = open(path);
        try {
            return parser.apply(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    public Path path() { return path; }

    public MemorySegment segment() { return segment; }

    public long size() { return segment.byteSize(); }

    @Override
    public void close() {
        OPEN.remove(this);
        arena.close();
        // the fault is reported after try-with-resources closed the file: remember why it faulted
        shrinkage().ifPresent(m -> closedShrunk = m);
    }

    /** The last file found shrunk when it was closed (errors are reported after their files are closed). */
    private static volatile String closedShrunk;

    /** One line saying how this file shrank under its mapping, or empty if it did not. */
    private java.util.Optional<String> shrinkage() {
        long now;
        try {
            now = java.nio.file.Files.size(path);
        } catch (IOException e) {
            return java.util.Optional.of(path + ": was removed or became unreadable while being read");
        }
        return now >= size() ? java.util.Optional.empty() : java.util.Optional.of(path + ": changed while being read: it was "
                + size() + " bytes when opened and is " + now + " now (another process truncated or rewrote it); nothing was written");
    }

    /**
     * Reading a page of a mapping whose file was truncated after it was mapped faults; the JDK reports
     * that as {@code InternalError: a fault occurred in an unsafe memory access operation}. This says
     * which open file shrank, in one line, or empty if none did (the fault had another cause).
     */
    public static java.util.Optional<String> describeShrunkFile() {
        for (MappedFile f : OPEN) {
            java.util.Optional<String> m = f.shrinkage();
            if (m.isPresent()) return m;
        }
        return java.util.Optional.ofNullable(closedShrunk);
    }

    /** Whether {@code e} is the JDK's report of a fault in a read of mapped memory. */
    public static boolean isMappedReadFault(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InternalError && String.valueOf(t.getMessage()).contains("unsafe memory access")) return true;
        }
        return false;
    }
}
