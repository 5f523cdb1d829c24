package io.entrollm.infer;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The CPU threads one model computes on ({@code --threads N}; default: all cores): a fork-join pool
 * of its own, so a run can be pinned to fewer cores than the machine has and never competes with the
 * common pool.
 */
public final class Workers implements AutoCloseable {
    private final ForkJoinPool pool;
    private final int threads;

    private Workers(int threads) {
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    /** {@code threads} workers; 0 means one per core. */
    public static Workers of(int threads) {
        if (threads < 0) throw new IllegalArgumentException("--threads must be 0 (all cores) or more, not " + threads);
        return new Workers(threads == 0 ? Runtime.getRuntime().availableProcessors() : threads);
    }

    public int threads() { return threads; }

    /** Runs {@code body(i)} for i in [0, n) on the workers and returns when all are done. */
    public void forEach(int n, IntConsumer body) {
        if (pool == null || n <= 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        pool.submit(() -> IntStream.range(0, n).parallel().forEach(body)).join();
    }

    @Override
    public void close() { if (pool != null) pool.shutdown(); }
}
