package io.entrollm.cli;

import java.util.List;

/**
 * One point of {@code pareto}: a file, its size in bits per parameter of the model, its score (lower is better) and
 * whether no other point is at least as small and as good (the front). With perplexity the score is the perplexity and
 * {@code change} its change in percent against the model's own; with weights ({@code --weights}) the score is the mean
 * of the matrices' relative squared errors and {@code change} the relative squared error of all their weights pooled.
 */
record ParetoRow(String tool, String setting, String file, long bytes, double bitsPerWeight, double score, double change, boolean front) {

    ParetoRow withFront(boolean f) { return new ParetoRow(tool, setting, file, bytes, bitsPerWeight, score, change, f); }

    /** The rows, each marked on the front when no other row has no more bits and no higher score, and less of one. */
    static List<ParetoRow> markFront(List<ParetoRow> rows) {
        return rows.stream().map(r -> r.withFront(rows.stream().noneMatch(o -> o != r && o.bitsPerWeight <= r.bitsPerWeight
                && o.score <= r.score && (o.bitsPerWeight < r.bitsPerWeight || o.score < r.score)))).toList();
    }
}
