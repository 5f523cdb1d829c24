package io.entrollm.residency;

import java.util.ArrayList;
import java.util.List;

/**
 * The order of work in the STREAMED mode for one forward pass over L layers, on three GPU streams:
 * COPY (host to device of layer i's coded weights into staging buffer i % 2), DECODE (Huffman decode
 * of staging buffer i % 2 into weight buffer i % 2) and COMPUTE (layer i's matmuls from weight buffer
 * i % 2 and from what they read in place in staging buffer i % 2). Each step names the steps it waits for (CUDA events), which encode the two constraints:
 * data dependencies (copy i, then decode i, then compute i) and buffer reuse (copy i+2 overwrites the
 * staging buffer decode i and compute i read; decode i+2 overwrites the weight buffer compute i reads).
 */
public final class StreamingSchedule {
    public enum Stream { COPY, DECODE, COMPUTE }

    /** One unit of work: a stream, a layer, the buffer it uses, and the indices of the steps it waits for. */
    public record Step(int index, Stream stream, int layer, int buffer, List<Integer> waitsFor) {}

    private StreamingSchedule() {}

    /**
     * Steps in issue order: copies run ahead, so copy i+1 overlaps decode i and compute i-1. Compute i
     * reads parts of staging buffer i % 2 in place (scales, packed symbols, stored matrices), so copy i+2
     * waits for compute i as well as for decode i.
     */
    public static List<Step> forLayers(int layers) {
        if (layers < 1) throw new IllegalArgumentException("at least one layer");
        List<Step> steps = new ArrayList<>();
        int[] copy = new int[layers], decode = new int[layers], compute = new int[layers];
        for (int i = 0; i < layers + 2; i++) {
            if (i - 2 >= 0) compute[i - 2] = add(steps, Stream.COMPUTE, i - 2, computeWaits(i - 2, decode, compute));
            if (i < layers) {
                // copy i: staging buffer i%2 is free once decode i-2 and compute i-2 have read it
                copy[i] = add(steps, Stream.COPY, i, i >= 2 ? List.of(decode[i - 2], compute[i - 2]) : List.of());
            }
            if (i - 1 >= 0 && i - 1 < layers) {
                // decode i-1 after its copy, and after compute i-3 released weight buffer (i-1)%2
                List<Integer> w = new ArrayList<>(List.of(copy[i - 1]));
                if (i - 1 >= 2) w.add(compute[i - 3]);
                decode[i - 1] = add(steps, Stream.DECODE, i - 1, w);
            }
        }
        return steps;
    }

    private static List<Integer> computeWaits(int i, int[] decode, int[] compute) {
        List<Integer> w = new ArrayList<>(List.of(decode[i]));
        if (i >= 1) w.add(compute[i - 1]); // layers run in order: layer i reads layer i-1's output
        return w;
    }

    private static int add(List<Step> steps, Stream s, int layer, List<Integer> waits) {
        int index = steps.size();
        steps.add(new Step(index, s, layer, layer % 2, List.copyOf(waits)));
        return index;
    }
}
