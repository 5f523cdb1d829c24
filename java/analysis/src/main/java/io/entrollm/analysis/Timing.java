package io.entrollm.analysis;

import java.util.Arrays;

/** Median wall time of repeated runs, bounded by a time budget so slow codecs run once. */
final class Timing {
    private Timing() {}

    record Measured<T>(T result, double medianSeconds, int runs) {}

    interface Run<T> { T run(); }

    static <T> Measured<T> median(int repeats, double budgetSeconds, Run<T> r) {
        double[] times = new double[Math.max(1, repeats)];
        T result = null;
        int n = 0;
        long start = System.nanoTime();
        while (n < times.length) {
            long t0 = System.nanoTime();
            result = r.run();
            times[n++] = (System.nanoTime() - t0) / 1e9;
            if ((System.nanoTime() - start) / 1e9 > budgetSeconds) break;
        }
        double[] done = Arrays.copyOf(times, n);
        Arrays.sort(done);
        double median = n % 2 == 1 ? done[n / 2] : (done[n / 2 - 1] + done[n / 2]) / 2;
        return new Measured<>(result, median, n);
    }
}
