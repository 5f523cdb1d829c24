package io.entrollm.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * Little-endian sequential writer over a file channel, with a position counter and zero padding to
 * an alignment. Large segments are written straight from their memory.
 */
public final class ChannelWriter {
    private final FileChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    private long position;

    public ChannelWriter(FileChannel channel) { this.channel = channel; }

    public long position() { return position; }

    private void ensure(int bytes) throws IOException {
        if (buf.remaining() < bytes) flush();
    }

    public ChannelWriter u8(int v) throws IOException { ensure(1); buf.put((byte) v); position += 1; return this; }

    public ChannelWriter u16(int v) throws IOException { ensure(2); buf.putShort((short) v); position += 2; return this; }

    public ChannelWriter u32(long v) throws IOException { ensure(4); buf.putInt((int) v); position += 4; return this; }

    public ChannelWriter u64(long v) throws IOException { ensure(8); buf.putLong(v); position += 8; return this; }

    public ChannelWriter f32(float v) throws IOException { ensure(4); buf.putFloat(v); position += 4; return this; }

    public ChannelWriter f64(double v) throws IOException { ensure(8); buf.putDouble(v); position += 8; return this; }

    public ChannelWriter bytes(byte[] b) throws IOException { return bytes(MemorySegment.ofArray(b)); }

    public ChannelWriter bytes(MemorySegment seg) throws IOException {
        if (seg.byteSize() <= buf.remaining()) {
            buf.put(seg.asByteBuffer());
        } else {
            flush();
            ByteBuffer src = seg.asByteBuffer();
            while (src.hasRemaining()) channel.write(src);
        }
        position += seg.byteSize();
        return this;
    }

    /** Writes zero bytes until the position is a multiple of {@code alignment}. */
    public ChannelWriter padTo(long alignment) throws IOException {
        long pad = Alignment.padding(position, alignment);
        for (long i = 0; i < pad; i++) u8(0);
        return this;
    }

    public void flush() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) channel.write(buf);
        buf.clear();
    }
}
