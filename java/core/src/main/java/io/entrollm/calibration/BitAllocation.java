package io.entrollm.calibration;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.SymbolHistogram;
import io.entrollm.quant.AppliedScheme;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantChoice;
import io.entrollm.quant.QuantScheme;
import io.entrollm.quant.QuantizedTensor;
import io.entrollm.quant.Quantizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.Function;

/**
 * A bit width (and granularity) per tensor for a target size: the EntroLLM idea that bits should go
 * where a layer is sensitive, made concrete. Each tensor is quantized with every candidate choice (a
 * width and a granularity; a group size that does not divide the tensor's row length is skipped for it); its
 * cost at a choice is
 * the output error the quantization causes relative to the tensor's output, {@code sum_ij (w_ij -
 * q_ij)^2 E[x_j^2] / sum_ij w_ij^2 E[x_j^2]} with the input statistics of a calibration text
 * ({@link ActivationStats}; E[x_j^2] = 1 without one): relative, because the residual stream adds
 * every layer's output, and absolute errors would favour layers whose outputs are small (on sotu-tiny
 * that cost 4.5% of perplexity at 3.5 bits where relative errors cost 1.2%). Its size is the bits
 * the file spends on it (Huffman-coded symbols with the length limit the
 * compressor uses, the chunk index, scales and zeros; or packed symbols). Starting from the narrowest
 * width everywhere, the allocation repeatedly widens the tensor whose next width removes the most
 * error per added bit, while the total stays within {@code targetBits} a weight (a greedy knapsack over
 * convex-ish error curves, as in mixed-precision quantization work).
 */
public final class BitAllocation {
    private BitAllocation() {}

    /**
     * How every tensor is quantized, whatever its choice.
     *
     * @param entropyCoded Huffman-coded (else packed: 4 bits a symbol up to 4 bits, 8 beyond)
     * @param weighSearch  searched scales weigh errors by the mean squares given to {@link #allocate} (as the file's will)
     */
    public record Settings(QuantScheme scheme, boolean halfParams, boolean searchScales, int maxCodeLength, int chunkSymbols, boolean entropyCoded,
                           boolean weighSearch) {
        /** Searched scales minimise the plain squared error. */
        public Settings(QuantScheme scheme, boolean halfParams, boolean searchScales, int maxCodeLength, int chunkSymbols, boolean entropyCoded) {
            this(scheme, halfParams, searchScales, maxCodeLength, chunkSymbols, entropyCoded, false);
        }
    }

    /** One tensor with one choice: the output error it causes and the bits it takes. */
    public record Point(QuantChoice choice, double error, long sizeBits) {
        public int bits() { return choice.bits(); }
    }

    /** The widths chosen, and what they cost; {@code curves}: each tensor's choosable points ({@link #hull}), narrowest first. */
    public record Result(Map<String, QuantChoice> choices, double bitsPerWeight, double error, Map<String, List<Point>> curves) {}

    /** A tensor to allocate: its name, shape and float32 values (read when asked for). */
    public record Input(String name, long[] shape, java.util.function.Supplier<float[]> values) {}

    /**
     * Chooses one of {@code candidates} for every tensor of {@code inputs} so that their size averages
     * at most {@code targetBits} a weight.
     *
     * @param meanSquares per tensor name, the mean square of each input column (missing: every column weighs 1)
     * @throws IllegalArgumentException if even the narrowest width everywhere exceeds the target
     */
    public static Result allocate(List<Input> inputs, double targetBits, List<QuantChoice> candidates, Settings settings, Map<String, double[]> meanSquares,
                                  java.util.function.IntConsumer progress) {
        if (inputs.isEmpty()) throw new IllegalArgumentException("no tensors to allocate bits to");
        if (candidates.isEmpty()) throw new IllegalArgumentException("no candidate choices");
        Map<String, List<Point>> curves = new LinkedHashMap<>();
        long weights = 0;
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        List<List<Point>> computed = inputs.parallelStream().map(in -> {
            List<Point> curve = hull(curve(in, candidates, settings, meanSquares.get(in.name())));
            if (progress != null) progress.accept(done.incrementAndGet());
            return curve;
        }).toList();
        for (int i = 0; i < inputs.size(); i++) {
            curves.put(inputs.get(i).name(), computed.get(i));
            weights += elements(inputs.get(i).shape());
        }
        double budget = targetBits * weights;
        int[] level = new int[inputs.size()];
        double total = 0;
        for (List<Point> c : computed) total += c.get(0).sizeBits();
        if (total > budget) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "--target-bits %.2f is below the smallest setting (of %s): %.3f bits a weight",
                    targetBits, candidates, total / weights));
        }
        // the upgrade of each tensor to its next width, best error removed per added bit first
        PriorityQueue<double[]> queue = new PriorityQueue<>((a, b) -> Double.compare(b[1], a[1]));
        for (int i = 0; i < computed.size(); i++) offer(queue, computed.get(i), i, 0);
        while (!queue.isEmpty()) {
            double[] best = queue.poll();
            int i = (int) best[0];
            List<Point> c = computed.get(i);
            long added = c.get(level[i] + 1).sizeBits() - c.get(level[i]).sizeBits();
            if (total + added > budget) continue; // this tensor cannot widen within the budget; others may
            total += added;
            level[i]++;
            offer(queue, c, i, level[i]);
        }
        Map<String, QuantChoice> choices = new LinkedHashMap<>();
        double error = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Point p = computed.get(i).get(level[i]);
            choices.put(inputs.get(i).name(), p.choice());
            error += p.error();
        }
        return new Result(choices, total / weights, error, curves);
    }

    private static void offer(PriorityQueue<double[]> queue, List<Point> curve, int tensor, int level) {
        if (level + 1 >= curve.size()) return;
        Point now = curve.get(level), next = curve.get(level + 1);
        long added = Math.max(1, next.sizeBits() - now.sizeBits());
        queue.add(new double[] {tensor, (now.error() - next.error()) / added});
    }

    /**
     * The points of {@code curve} worth choosing: ordered by size, each with less error than the one
     * before (a width that costs more and helps less is dropped: with outliers a range-spanning grid can
     * fit worse at 4 bits than at 3), and on the lower convex hull, so that each step removes less error
     * per bit than the one before, which the greedy needs.
     */
    static List<Point> hull(List<Point> curve) {
        List<Point> sorted = new ArrayList<>(curve);
        sorted.sort(java.util.Comparator.comparingLong(Point::sizeBits).thenComparingDouble(Point::error));
        List<Point> out = new ArrayList<>();
        for (Point p : sorted) {
            if (!out.isEmpty() && p.error() >= out.get(out.size() - 1).error()) continue;
            while (out.size() >= 2 && slope(out.get(out.size() - 2), out.get(out.size() - 1)) <= slope(out.get(out.size() - 1), p)) out.remove(out.size() - 1);
            out.add(p);
        }
        return out;
    }

    /** Error removed per added bit from {@code a} to {@code b}. */
    private static double slope(Point a, Point b) { return (a.error() - b.error()) / Math.max(1, b.sizeBits() - a.sizeBits()); }

    /** The tensor's error and size with every candidate its shape allows. */
    static List<Point> curve(Input in, List<QuantChoice> candidates, Settings s, double[] meanSquares) {
        float[] w = in.values().get();
        long[] shape = in.shape();
        int cols = Math.toIntExact(shape[1]);
        if (meanSquares != null && meanSquares.length != cols) {
            throw new IllegalArgumentException("tensor '" + in.name() + "': " + meanSquares.length + " input statistics for " + cols + " columns");
        }
        // the tensor's output energy under the same weighting: errors are compared relative to it, so a layer
        // whose outputs are large is not favoured over one whose outputs are small (the residual stream adds them)
        double energy = 0;
        for (int i = 0; i < w.length; i++) energy += (double) w[i] * w[i] * (meanSquares == null ? 1 : meanSquares[i % cols]);
        energy = Math.max(energy, Double.MIN_NORMAL);
        List<Point> out = new ArrayList<>();
        for (QuantChoice c : candidates) {
            if (c.granularity().kind() == Granularity.Kind.GROUP && cols % c.granularity().groupSize() != 0) continue;
            // searched scales weigh the error as it is measured here, as compress does with --scale-search and a calibration text
            QuantizedTensor q = Quantizer.quantize(in.name(), shape, w, c.bits(), s.scheme(), c.granularity(), s.halfParams(), s.searchScales(),
                    s.weighSearch() ? meanSquares : null);
            float[] r = Quantizer.dequantize(q);
            double error = 0;
            for (int i = 0; i < w.length; i++) {
                double d = (double) w[i] - r[i];
                error += d * d * (meanSquares == null ? 1 : meanSquares[i % cols]);
            }
            out.add(new Point(c, error / energy, sizeBits(q, s)));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("tensor '" + in.name() + "': no candidate fits its row length of " + cols);
        return out;
    }

    /** Every width of {@code bits} with every granularity of {@code granularities}. */
    public static List<QuantChoice> choices(int[] bits, List<Granularity> granularities) {
        List<QuantChoice> out = new ArrayList<>();
        for (int b : bits) for (Granularity g : granularities) out.add(new QuantChoice(b, g));
        return out;
    }

    /** Bits the file spends on a quantized tensor: its symbols as the encoding stores them, chunk offsets, scales and zeros. */
    static long sizeBits(QuantizedTensor q, Settings s) {
        long n = q.symbols().length;
        long symbols;
        if (s.entropyCoded()) {
            SymbolHistogram h = SymbolHistogram.of(q.symbols(), 1 << q.bits());
            symbols = HuffmanCodebook.build(h, Math.max(q.bits(), s.maxCodeLength())).codedBits(h)
                    + 64L * ((n + s.chunkSymbols() - 1) / s.chunkSymbols());
        } else {
            symbols = n * (q.bits() <= 4 ? 4 : 8);
        }
        long groups = q.scales().length;
        return symbols + groups * (s.halfParams() ? 16 : 32) * (q.scheme() == AppliedScheme.ASYM ? 2 : 1);
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Inputs for {@code names}, each read through {@code values} when its curve is computed. */
    public static List<Input> inputs(List<String> names, Function<String, long[]> shape, Function<String, float[]> values) {
        List<Input> out = new ArrayList<>();
        for (String n : names) out.add(new Input(n, shape.apply(n), () -> values.apply(n)));
        return out;
    }
}
