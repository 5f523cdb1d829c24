package io.entrollm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A scratch directory that is deleted with its contents on close (the commands' intermediate files). */
final class TempDir implements AutoCloseable {
    private final Path path;

    private TempDir(Path path) { this.path = path; }

    static TempDir create(String prefix) throws IOException { return new TempDir(Files.createTempDirectory(prefix)); }

    Path path() { return path; }

    @Override
    public void close() throws IOException { io.entrollm.io.AtomicDirectory.deleteRecursively(path); }
}
