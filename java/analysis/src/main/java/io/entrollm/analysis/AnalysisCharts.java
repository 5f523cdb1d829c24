package io.entrollm.analysis;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The study's charts, as PNG and SVG, one set per quantization setting. */
public final class AnalysisCharts {
    private AnalysisCharts() {}

    /** Writes the charts into {@code dir}; returns their file names (relative to {@code dir}). */
    public static List<String> write(AnalysisResult r, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<String> files = new ArrayList<>();
        for (AnalysisResult.SettingResult s : r.settings()) {
            files.addAll(save(ratioVsDecode(s), dir, "ratio-vs-decode-" + s.setting().slug()));
            files.addAll(save(perLayerBits(s), dir, "per-layer-bits-" + s.setting().slug()));
            files.addAll(save(loadTime(r, s), dir, "load-time-" + s.setting().slug()));
        }
        return files;
    }

    private static List<String> save(Chart<?, ?> chart, Path dir, String name) throws IOException {
        BitmapEncoder.saveBitmapWithDPI(chart, dir.resolve(name).toString(), BitmapEncoder.BitmapFormat.PNG, 120);
        VectorGraphicsEncoder.saveVectorGraphic(chart, dir.resolve(name).toString(), VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        return List.of(name + ".png", name + ".svg");
    }

    private static XYChart ratioVsDecode(AnalysisResult.SettingResult s) {
        XYChart c = new XYChartBuilder().width(900).height(560).title("Compression ratio vs decode speed, " + s.setting().label())
                .xAxisTitle("decode MB/s (1 thread, uncompressed bytes, log)").yAxisTitle("ratio vs packed bytes").build();
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setMarkerSize(11);
        for (AnalysisResult.CodecResult r : s.codecs()) {
            c.addSeries(r.codec(), new double[] {r.decodeMBps()}, new double[] {r.ratio()});
        }
        return c;
    }

    private static CategoryChart perLayerBits(AnalysisResult.SettingResult s) {
        CategoryChart c = new CategoryChartBuilder().width(1200).height(560).title("Bits per weight per layer, " + s.setting().label())
                .xAxisTitle("tensor").yAxisTitle("bits / weight").build();
        c.getStyler().setXAxisLabelRotation(75);
        c.getStyler().setAxisTickLabelsFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 8));
        List<String> names = s.tensors().stream().map(t -> shortName(t.name())).toList();
        c.addSeries("entropy", names, s.tensors().stream().map(t -> (Number) t.entropyBits()).toList());
        c.addSeries("huffman (+overhead)", names, s.tensors().stream().map(t -> (Number) (8.0 * t.huffmanBytes() / t.weights())).toList());
        String best = s.tensors().get(0).codecBytes().containsKey("zstd-19") ? "zstd-19" : s.tensors().get(0).codecBytes().keySet().iterator().next();
        c.addSeries(best, names, s.tensors().stream().map(t -> (Number) (8.0 * t.codecBytes().get(best) / t.weights())).toList());
        return c;
    }

    private static XYChart loadTime(AnalysisResult r, AnalysisResult.SettingResult s) {
        XYChart c = new XYChartBuilder().width(900).height(560).title("Load time vs storage bandwidth (pipelined), " + s.setting().label())
                .xAxisTitle("storage MB/s (log)").yAxisTitle("seconds (log)").build();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setYAxisLogarithmic(true);
        for (String codec : s.loadTimes().stream().map(AnalysisResult.LoadTime::codec).distinct().toList()) {
            List<AnalysisResult.LoadTime> pts = s.loadTimes().stream().filter(l -> l.codec().equals(codec)).toList();
            XYSeries series = c.addSeries(codec, pts.stream().mapToDouble(AnalysisResult.LoadTime::storageMBps).toArray(),
                    pts.stream().mapToDouble(AnalysisResult.LoadTime::pipelinedSeconds).toArray());
            series.setMarker(SeriesMarkers.CIRCLE);
        }
        return c;
    }

    private static String shortName(String n) {
        return n.replace("model.layers.", "L").replace(".weight", "").replace("self_attn.", "").replace("mlp.", "")
                .replace("encoder.layer.", "L").replace("attention.", "");
    }
}
