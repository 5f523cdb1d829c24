package io.entrollm.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * The channel of an {@link AtomicFile}, whose write errors name the file the user asked for ("out.entro:
 * No space left on device") instead of the hidden temporary file, or nothing at all (the JDK's message
 * for a full disk names no file).
 */
final class TargetNamingChannel extends FileChannel {
    private final FileChannel ch;
    private final Path target;

    TargetNamingChannel(FileChannel ch, Path target) {
        this.ch = ch;
        this.target = target;
    }

    private IOException named(IOException e) {
        return e.getMessage() != null && e.getMessage().startsWith(target.toString()) ? e
                : new IOException(target + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
                        + " (while writing)", e);
    }

    @Override public int read(ByteBuffer dst) throws IOException { return ch.read(dst); }

    @Override public long read(ByteBuffer[] dsts, int offset, int length) throws IOException { return ch.read(dsts, offset, length); }

    @Override public int read(ByteBuffer dst, long position) throws IOException { return ch.read(dst, position); }

    @Override
    public int write(ByteBuffer src) throws IOException {
        try { return ch.write(src); } catch (IOException e) { throw named(e); }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        try { return ch.write(srcs, offset, length); } catch (IOException e) { throw named(e); }
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        try { return ch.write(src, position); } catch (IOException e) { throw named(e); }
    }

    @Override public long position() throws IOException { return ch.position(); }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        ch.position(newPosition);
        return this;
    }

    @Override public long size() throws IOException { return ch.size(); }

    @Override
    public FileChannel truncate(long size) throws IOException {
        ch.truncate(size);
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        try { ch.force(metaData); } catch (IOException e) { throw named(e); }
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return ch.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        try { return ch.transferFrom(src, position, count); } catch (IOException e) { throw named(e); }
    }

    @Override public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException { return ch.map(mode, position, size); }

    @Override public FileLock lock(long position, long size, boolean shared) throws IOException { return ch.lock(position, size, shared); }

    @Override public FileLock tryLock(long position, long size, boolean shared) throws IOException { return ch.tryLock(position, size, shared); }

    @Override protected void implCloseChannel() throws IOException { ch.close(); }
}
