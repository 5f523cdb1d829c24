package io.entrollm.calibration;

import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The greedy width allocation: within budget, nothing affordable left out, bits where the error weighs most. */
class BitAllocationTest {
    static final BitAllocation.Settings HUFFMAN = new BitAllocation.Settings(QuantScheme.ASYM, false, false, 12, 4096, true);
    static final List<io.entrollm.quant.QuantChoice> WIDTHS = BitAllocation.choices(new int[] {2, 3, 4, 5, 6, 8}, List.of(Granularity.TENSOR));

    /** Gaussian tensors of different spreads and shapes, one heavy-tailed. */
    static List<BitAllocation.Input> tensors(long seed) {
        Random r = new Random(seed);
        List<BitAllocation.Input> out = new ArrayList<>();
        int[][] shapes = {{64, 96}, {96, 64}, {32, 200}, {128, 48}};
        for (int i = 0; i < shapes.length; i++) {
            float[] w = new float[shapes[i][0] * shapes[i][1]];
            double spread = 0.01 * (i + 1);
            for (int k = 0; k < w.length; k++) w[k] = (float) (r.nextGaussian() * spread * (i == 3 && k % 97 == 0 ? 20 : 1));
            out.add(new BitAllocation.Input("layers." + i + ".weight", new long[] {shapes[i][0], shapes[i][1]}, () -> w));
        }
        return out;
    }

    static long weights(List<BitAllocation.Input> in) { return in.stream().mapToLong(t -> t.shape()[0] * t.shape()[1]).sum(); }

    @Property(tries = 15)
    void staysWithinTheTargetAndLeavesNoAffordableWidening(@ForAll @DoubleRange(min = 2.5, max = 8.5) double target) {
        List<BitAllocation.Input> in = tensors(7);
        BitAllocation.Result r = BitAllocation.allocate(in, target, WIDTHS, HUFFMAN, Map.of(), null);
        assertThat(r.bitsPerWeight()).isLessThanOrEqualTo(target);
        double total = r.bitsPerWeight() * weights(in);
        for (BitAllocation.Input t : in) {
            List<BitAllocation.Point> curve = r.curves().get(t.name());
            int level = 0;
            while (!curve.get(level).choice().equals(r.choices().get(t.name()))) level++;
            if (level + 1 < curve.size()) {
                long added = curve.get(level + 1).sizeBits() - curve.get(level).sizeBits();
                assertThat(total + added).as(t.name() + " could still widen").isGreaterThan(target * weights(in));
            }
        }
    }

    @Test
    void errorFallsAsTheTargetRises() {
        List<BitAllocation.Input> in = tensors(3);
        double last = Double.POSITIVE_INFINITY;
        for (double target : new double[] {2.6, 3.0, 3.5, 4.0, 5.0, 6.0, 9.0}) {
            BitAllocation.Result r = BitAllocation.allocate(in, target, WIDTHS, HUFFMAN, Map.of(), null);
            assertThat(r.error()).as("target " + target).isLessThanOrEqualTo(last);
            last = r.error();
        }
        BitAllocation.Result all = BitAllocation.allocate(in, 9.0, WIDTHS, HUFFMAN, Map.of(), null);
        all.choices().values().forEach(c -> assertEquals(8, c.bits()));
    }

    /**
     * Two copies of one tensor whose first 48 columns are small and last 48 large (one range per tensor,
     * so the small columns are quantized coarsely for their size): the copy whose inputs weigh the small
     * columns suffers more relative output error, and gets more bits, than the copy whose inputs weigh
     * the large ones; without statistics the copies tie.
     */
    @Test
    void bitsGoWhereTheActivationsMakeTheErrorCount() {
        Random rnd = new Random(5);
        float[] w = new float[64 * 96];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * (i % 96 < 48 ? 0.002 : 0.05));
        BitAllocation.Input a = new BitAllocation.Input("small.weight", new long[] {64, 96}, () -> w);
        BitAllocation.Input b = new BitAllocation.Input("large.weight", new long[] {64, 96}, () -> w);
        double[] onSmall = new double[96], onLarge = new double[96];
        for (int j = 0; j < 96; j++) {
            onSmall[j] = j < 48 ? 100 : 1;
            onLarge[j] = j < 48 ? 1 : 100;
        }
        BitAllocation.Result r = BitAllocation.allocate(List.of(a, b), 4.0, WIDTHS, HUFFMAN, Map.of(a.name(), onSmall, b.name(), onLarge), null);
        assertThat(r.choices().get(a.name()).bits()).isGreaterThan(r.choices().get(b.name()).bits());
        BitAllocation.Result flat = BitAllocation.allocate(List.of(a, b), 4.0, WIDTHS, HUFFMAN, Map.of(), null);
        assertThat(Math.abs(flat.choices().get(a.name()).bits() - flat.choices().get(b.name()).bits())).isLessThanOrEqualTo(1);
    }

    @Test
    void aTargetBelowTheNarrowestSettingIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BitAllocation.allocate(tensors(1), 0.5, BitAllocation.choices(new int[] {2, 4}, List.of(Granularity.TENSOR)), HUFFMAN, Map.of(), null));
        assertThat(e.getMessage()).contains("--target-bits 0.50 is below the smallest setting (of [2:tensor, 4:tensor])");
        assertThrows(IllegalArgumentException.class, () -> BitAllocation.choices(new int[] {1, 4}, List.of(Granularity.TENSOR)));
        assertThrows(IllegalArgumentException.class, () -> BitAllocation.allocate(tensors(1), 4, BitAllocation.choices(new int[] {4}, List.of(Granularity.TENSOR)),
                HUFFMAN, Map.of("layers.0.weight", new double[3]), null));
    }

    /** A width that costs more and helps less is never chosen, and the steps left remove less error per bit one after the other. */
    @Test
    void dominatedWidthsLeaveTheCurve() {
        List<BitAllocation.Point> hull = BitAllocation.hull(List.of(point(2, 836, 6367), point(3, 29.2, 6436), point(4, 30.6, 7509),
                point(5, 5.6, 8297), point(6, 1.4, 12026), point(8, 0.08, 23609)));
        assertEquals(List.of(2, 3, 5, 6, 8), hull.stream().map(BitAllocation.Point::bits).toList());
        for (int i = 2; i < hull.size(); i++) {
            double before = (hull.get(i - 2).error() - hull.get(i - 1).error()) / (hull.get(i - 1).sizeBits() - hull.get(i - 2).sizeBits());
            double after = (hull.get(i - 1).error() - hull.get(i).error()) / (hull.get(i).sizeBits() - hull.get(i - 1).sizeBits());
            assertThat(after).isLessThan(before);
        }
    }

    static BitAllocation.Point point(int bits, double error, long size) { return new BitAllocation.Point(new io.entrollm.quant.QuantChoice(bits, Granularity.TENSOR), error, size); }

    /** A group size chosen only where it divides the rows; finer groups cost their scales and buy less error. */
    @Test
    void granularitiesAreChoicesToo() {
        List<io.entrollm.quant.QuantChoice> both = BitAllocation.choices(new int[] {3, 4}, List.of(Granularity.TENSOR, Granularity.group(64)));
        List<BitAllocation.Point> curve = BitAllocation.curve(tensors(4).get(2), both, HUFFMAN, null);   // 200 columns: group:64 does not fit
        assertEquals(List.of("3:tensor", "4:tensor"), curve.stream().map(p -> p.choice().toString()).toList());
        List<BitAllocation.Point> fits = BitAllocation.curve(tensors(4).get(0), both, HUFFMAN, null);    // 96 columns: no
        assertEquals(2, fits.size());
        List<BitAllocation.Point> grouped = BitAllocation.curve(tensors(4).get(3), both, HUFFMAN, null); // 48 columns: no
        assertEquals(2, grouped.size());
        float[] values = new float[16 * 128];
        Random r = new Random(9);
        for (int i = 0; i < values.length; i++) values[i] = (float) (r.nextGaussian() * 0.02 * (1 + i / 128 % 4));
        BitAllocation.Input wide = new BitAllocation.Input("w", new long[] {16, 128}, () -> values);
        List<BitAllocation.Point> four = BitAllocation.curve(wide, both, HUFFMAN, null);
        assertEquals(4, four.size());
        assertThat(four.get(3).error()).isLessThan(four.get(1).error());     // 4-bit group:64 fits better than 4-bit tensor
        assertThat(four.get(3).sizeBits()).isGreaterThan(four.get(1).sizeBits());
    }

    /** Packed sizes are exact: 4 bits a symbol up to 4 bits, 8 beyond, plus one float scale and zero per tensor. */
    @Test
    void packedSizesCountTheStoredBytes() {
        BitAllocation.Settings packed = new BitAllocation.Settings(QuantScheme.ASYM, false, false, 12, 4096, false);
        BitAllocation.Input t = tensors(2).get(0);
        List<BitAllocation.Point> curve = BitAllocation.curve(t, BitAllocation.choices(new int[] {3, 4, 6}, List.of(Granularity.TENSOR)), packed, null);
        assertEquals(64 * 96 * 4 + 64, curve.get(0).sizeBits());
        assertEquals(64 * 96 * 4 + 64, curve.get(1).sizeBits());
        assertEquals(64 * 96 * 8 + 64, curve.get(2).sizeBits());
        assertThat(curve.get(0).error()).isGreaterThan(curve.get(1).error());
    }
}
