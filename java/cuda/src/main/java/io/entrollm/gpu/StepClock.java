package io.entrollm.gpu;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.List;

/**
 * Timing events for the steps of one forward pass: a start and an end event per step, recorded on the
 * step's stream, and a base event recorded before the first step; read back after synchronisation as
 * milliseconds since the base.
 */
final class StepClock implements AutoCloseable {
    private final CUevent base = new CUevent();
    private final CUevent[] start, end;
    private final LayerTimeline.Kind[] kinds;
    private final int[] layers;
    private final long[] bytes;

    StepClock(int steps) {
        start = new CUevent[steps];
        end = new CUevent[steps];
        kinds = new LayerTimeline.Kind[steps];
        layers = new int[steps];
        bytes = new long[steps];
        Cuda.check(JCudaDriver.cuEventCreate(base, 0), "cuEventCreate");
        for (int i = 0; i < steps; i++) {
            start[i] = new CUevent();
            end[i] = new CUevent();
            Cuda.check(JCudaDriver.cuEventCreate(start[i], 0), "cuEventCreate");
            Cuda.check(JCudaDriver.cuEventCreate(end[i], 0), "cuEventCreate");
        }
    }

    /** Marks time zero on {@code stream} (the other streams wait for it, so no step starts before it). */
    CUevent begin(CudaStream stream) {
        Cuda.check(JCudaDriver.cuEventRecord(base, stream.handle()), "cuEventRecord");
        return base;
    }

    void start(int step, LayerTimeline.Kind kind, int layer, long stepBytes, CudaStream stream) {
        kinds[step] = kind;
        layers[step] = layer;
        bytes[step] = stepBytes;
        Cuda.check(JCudaDriver.cuEventRecord(start[step], stream.handle()), "cuEventRecord");
    }

    void end(int step, CudaStream stream) { Cuda.check(JCudaDriver.cuEventRecord(end[step], stream.handle()), "cuEventRecord"); }

    /** After the streams are synchronised: the first {@code steps} steps. */
    List<LayerTimeline.Step> read(int steps) {
        List<LayerTimeline.Step> out = new ArrayList<>(steps);
        float[] a = new float[1], b = new float[1];
        for (int i = 0; i < steps; i++) {
            Cuda.check(JCudaDriver.cuEventElapsedTime(a, base, start[i]), "cuEventElapsedTime");
            Cuda.check(JCudaDriver.cuEventElapsedTime(b, base, end[i]), "cuEventElapsedTime");
            out.add(new LayerTimeline.Step(kinds[i], layers[i], a[0], b[0], bytes[i]));
        }
        return out;
    }

    @Override
    public void close() {
        JCudaDriver.cuEventDestroy(base);
        for (int i = 0; i < start.length; i++) {
            if (start[i] != null) JCudaDriver.cuEventDestroy(start[i]);
            if (end[i] != null) JCudaDriver.cuEventDestroy(end[i]);
        }
    }
}
