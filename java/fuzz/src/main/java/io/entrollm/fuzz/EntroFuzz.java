package io.entrollm.fuzz;

/**
 * Fuzz target: a .entro file with its checksums recomputed after mutation ({@link EntroReseal}), so the
 * directory, section references, codebooks, chunk indexes and bitstreams are what gets fuzzed, through
 * every step of {@link ModelWalk}.
 */
public final class EntroFuzz {
    private EntroFuzz() {}

    public static void fuzzerTestOneInput(byte[] data) { accepts(data); }

    /** Runs the input through the readers: true if accepted, false if refused as the contract allows. */
    public static boolean accepts(byte[] data) {
        return ReaderContract.check("model.entro", EntroReseal.reseal(data), ModelWalk::walk);
    }
}
