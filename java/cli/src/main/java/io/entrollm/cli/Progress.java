package io.entrollm.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;

import java.io.PrintWriter;

/**
 * Progress of a long command on stderr, in the command's own unit (tensors, windows, steps): a bar on
 * a terminal, and without one (output redirected, a CI log) a plain line every few seconds, so a run
 * of minutes is never silent. {@code entrollm.progress.seconds} sets that interval (tests use 0).
 */
final class Progress implements AutoCloseable {
    private final String task, unit;
    private final long total;
    private final ProgressBar bar;
    private final PrintWriter log;
    private final long intervalNanos;
    private long lastLine = System.nanoTime();
    private long done;
    private String extra = "";

    private Progress(String task, String unit, long total, ProgressBar bar, PrintWriter log, long intervalNanos) {
        this.task = task;
        this.unit = unit;
        this.total = total;
        this.bar = bar;
        this.log = log;
        this.intervalNanos = intervalNanos;
    }

    /** Progress of {@code task} over {@code total} {@code unit}s, reported on {@code err} when there is no terminal. */
    static Progress start(String task, String unit, long total, PrintWriter err) {
        java.io.Console console = System.console();
        if (console != null && console.isTerminal()) {
            return new Progress(task, unit, total, new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setUnit(" " + unit, 1).build(), null, 0);
        }
        double seconds = Double.parseDouble(System.getProperty("entrollm.progress.seconds", "5"));
        return new Progress(task, unit, total, null, err, (long) (seconds * 1e9));
    }

    /** {@code done} units finished; {@code extra} (may be empty) says more, e.g. the running perplexity. */
    synchronized void stepTo(long done, String extra) {
        this.done = done;
        this.extra = extra == null ? "" : extra;
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(this.extra);
            return;
        }
        long now = System.nanoTime();
        if (now - lastLine >= intervalNanos || done == total) {
            lastLine = now;
            log.printf("%s: %d/%d %s (%.0f%%)%s%n", task, done, total, unit, total == 0 ? 100.0 : 100.0 * done / total,
                    this.extra.isEmpty() ? "" : ", " + this.extra);
            log.flush();
        }
    }

    synchronized void stepTo(long done) { stepTo(done, extra); }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
