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

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    public static MappedFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new MappedFile(path, arena, seg);
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
    public void close() { arena.close(); }
}
