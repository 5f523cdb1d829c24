package io.entrollm.io;

/** Alignment arithmetic with overflow checks. */
public final class Alignment {
    private Alignment() {}

    /** Bytes to add to {@code offset} to reach the next multiple of {@code alignment}. */
    public static long padding(long offset, long alignment) {
        long rem = offset % alignment;
        return rem == 0 ? 0 : alignment - rem;
    }

    /** {@code offset} rounded up to a multiple of {@code alignment}. */
    public static long alignUp(long offset, long alignment) {
        return Math.addExact(offset, padding(offset, alignment));
    }
}
