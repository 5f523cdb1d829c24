package io.entrollm.cli;

import java.util.List;

/**
 * One point of {@code pareto}: a file, its size in bits per parameter of the model, its perplexity, and whether no
 * other point is at least as small and as good (the front).
 */
record ParetoRow(String tool, String setting, String file, long bytes, double bitsPerWeight, double perplexity, double deltaPercent,
                 boolean front) {

    ParetoRow withFront(boolean f) { return new ParetoRow(tool, setting, file, bytes, bitsPerWeight, perplexity, deltaPercent, f); }

    /** The rows, each marked on the front when no other row has no more bits and no more perplexity, and less of one. */
    static List<ParetoRow> markFront(List<ParetoRow> rows) {
        return rows.stream().map(r -> r.withFront(rows.stream().noneMatch(o -> o != r && o.bitsPerWeight <= r.bitsPerWeight
                && o.perplexity <= r.perplexity && (o.bitsPerWeight < r.bitsPerWeight || o.perplexity < r.perplexity)))).toList();
    }
}
