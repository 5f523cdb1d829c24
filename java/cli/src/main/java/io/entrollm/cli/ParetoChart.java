package io.entrollm.cli;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/** {@code pareto}'s chart: the score (perplexity or weight error) against bits per weight, one series of points per tool, and the front of each tool. */
final class ParetoChart {
    private ParetoChart() {}

    /**
     * Writes {@code file} as PNG or SVG (by its extension), the score on a logarithmic axis when {@code logScore} (weight
     * errors span decades; a point scoring 0, the source itself, is left off such an axis).
     */
    static void write(List<ParetoRow> all, String title, String scoreTitle, boolean logScore, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart c = new XYChartBuilder().width(900).height(600).title(title).xAxisTitle("file bits / parameter").yAxisTitle(scoreTitle).build();
        c.getStyler().setMarkerSize(10);
        c.getStyler().setYAxisLogarithmic(logScore);
        List<ParetoRow> rows = logScore ? all.stream().filter(r -> r.score() > 0).toList() : all;
        for (String tool : rows.stream().map(ParetoRow::tool).distinct().toList()) {
            List<ParetoRow> mine = rows.stream().filter(r -> r.tool().equals(tool)).sorted(Comparator.comparingDouble(ParetoRow::bitsPerWeight)).toList();
            XYSeries points = c.addSeries(tool, mine.stream().mapToDouble(ParetoRow::bitsPerWeight).toArray(),
                    mine.stream().mapToDouble(ParetoRow::score).toArray());
            points.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            List<ParetoRow> front = ParetoRow.markFront(mine).stream().filter(ParetoRow::front).toList();
            if (front.size() > 1) {
                XYSeries line = c.addSeries(tool + " front", front.stream().mapToDouble(ParetoRow::bitsPerWeight).toArray(),
                        front.stream().mapToDouble(ParetoRow::score).toArray());
                line.setMarker(SeriesMarkers.NONE);
            }
        }
        String name = file.getFileName().toString();
        boolean svg = name.endsWith(".svg");
        if (!svg && !name.endsWith(".png")) throw new IllegalArgumentException("--chart must end in .png or .svg: " + file);
        // the encoders write to a path of their own: write beside the target, then rename, so the chart appears whole
        Path dir = file.toAbsolutePath().getParent();
        String base = "." + name.substring(0, name.length() - 4) + ".p" + ProcessHandle.current().pid() + ".partial";
        Path tmp = dir.resolve(base + (svg ? ".svg" : ".png"));
        try {
            if (svg) VectorGraphicsEncoder.saveVectorGraphic(c, dir.resolve(base).toString(), VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            else BitmapEncoder.saveBitmapWithDPI(c, dir.resolve(base).toString(), BitmapEncoder.BitmapFormat.PNG, 120);
            java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            java.nio.file.Files.deleteIfExists(tmp);
        }
    }
}
