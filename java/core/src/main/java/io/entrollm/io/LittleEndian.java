package io.entrollm.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Arrays to little-endian bytes, whatever the platform's byte order. */
public final class LittleEndian {
    private LittleEndian() {}

    public static byte[] floats(float[]... arrays) {
        int n = 0;
        for (float[] a : arrays) n += a.length;
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(n, 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] a : arrays) {
            b.asFloatBuffer().put(a); // a view: it does not move b's position
            b.position(b.position() + a.length * 4);
        }
        return b.array();
    }

    /** The arrays one after the other as IEEE float16, rounded to nearest (ties to even). */
    public static byte[] halves(float[]... arrays) {
        int n = 0;
        for (float[] a : arrays) n += a.length;
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(n, 2)).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] a : arrays) for (float v : a) b.putShort(Float.floatToFloat16(v));
        return b.array();
    }

    public static byte[] longs(long[] a) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(a.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(a);
        return b.array();
    }

    public static byte[] ints(int[] a) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(a.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(a);
        return b.array();
    }
}
