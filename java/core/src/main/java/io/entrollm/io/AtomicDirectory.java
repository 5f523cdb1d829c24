package io.entrollm.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A directory of several files (a Hugging Face model: shards, index, config, tokenizer) written under
 * a hidden sibling name and renamed into place by {@link #commit()}, so no reader ever finds a model
 * directory with some of its files missing; closing without a commit deletes what was written. The
 * target may not exist yet or be an empty directory; anything else is refused before writing.
 */
public final class AtomicDirectory implements AutoCloseable {
    private final Path target, temp;
    private boolean committed;

    private AtomicDirectory(Path target, Path temp) {
        this.target = target;
        this.temp = temp;
    }

    public static AtomicDirectory create(Path target) throws IOException {
        if (Files.exists(target) && !(Files.isDirectory(target) && isEmpty(target))) {
            throw new FileAlreadyExistsException(target.toString(), null, "not an empty directory");
        }
        Path parent = target.toAbsolutePath().getParent();
        Path temp;
        try {
            Files.createDirectories(parent);
            StaleTemps.deleteAbandoned(target.toAbsolutePath(), SUFFIX);
            temp = null;
            while (temp == null) {
                Path candidate = parent.resolve(StaleTemps.prefix(target.toAbsolutePath())
                        + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + SUFFIX);
                try {
                    temp = Files.createDirectory(candidate);
                } catch (FileAlreadyExistsException taken) {
                    // another writer drew the same number: draw again
                }
            }
            // a model folder is an ordinary folder others may read, whatever this process's umask
            if (Files.getFileStore(temp).supportsFileAttributeView(java.nio.file.attribute.PosixFileAttributeView.class)) {
                Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        } catch (java.nio.file.AccessDeniedException e) {
            throw new java.nio.file.AccessDeniedException(target.toString(), null, "cannot write in " + parent);
        }
        return new AtomicDirectory(target, temp);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    static final String SUFFIX = ".partial-dir";

    /** Where to write the files until the commit. */
    public Path path() { return temp; }

    /** Moves the written directory into place (replacing an empty one). */
    public void commit() throws IOException {
        if (Files.isDirectory(target)) {
            if (!isEmpty(target)) throw new FileAlreadyExistsException(target.toString(), null, "became non-empty while writing");
            Files.delete(target);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        committed = true;
    }

    @Override
    public void close() throws IOException {
        if (!committed) deleteRecursively(temp);
    }

    /** Deletes a directory and everything below it (nothing if it is gone already). */
    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
