package io.entrollm.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that readers see either nothing or the complete file: the bytes go to a
 * temporary file in the same directory, are forced to storage, and the temporary file is renamed
 * over the target only on {@link #commit()}. Closing without commit deletes the temporary file, so a
 * failed or interrupted write leaves no output behind.
 */
public final class AtomicFile implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private boolean committed;

    private AtomicFile(Path target, Path temp, FileChannel channel) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
    }

    public static AtomicFile create(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path temp;
        try {
            Files.createDirectories(dir);
            StaleTemps.deleteAbandoned(abs, SUFFIX);
            temp = Files.createTempFile(dir, StaleTemps.prefix(abs), SUFFIX);
        } catch (java.nio.file.AccessDeniedException e) {
            // the temporary file is our business; the user needs to hear which output could not be written
            throw new java.nio.file.AccessDeniedException(target.toString(), null, "cannot write in " + dir);
        } catch (IOException e) {
            throw new IOException(target + ": cannot be written: " + e.getMessage(), e);
        }
        try {
            // createTempFile makes the file private (0600); outputs are ordinary files others may read.
            if (Files.getFileStore(temp).supportsFileAttributeView(java.nio.file.attribute.PosixFileAttributeView.class)) {
                Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
            FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            return new AtomicFile(abs, temp, new TargetNamingChannel(ch, target));
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
    }

    static final String SUFFIX = ".partial";

    /** Writes {@code bytes} to {@code target} atomically (small files: reports, configs, indexes). */
    public static void write(Path target, byte[] bytes) throws IOException {
        try (AtomicFile f = create(target)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) f.channel().write(b);
            f.commit();
        }
    }

    /** The channel to write through; its position starts at 0. */
    public FileChannel channel() { return channel; }

    public Path target() { return target; }

    /** Flushes, closes and renames the temporary file onto the target. */
    public void commit() throws IOException {
        channel.force(true);
        channel.close();
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IOException(target + ": cannot be put in place: " + e.getMessage(), e);
        }
        committed = true;
    }

    @Override
    public void close() throws IOException {
        if (committed) return;
        channel.close();
        Files.deleteIfExists(temp);
    }
}
