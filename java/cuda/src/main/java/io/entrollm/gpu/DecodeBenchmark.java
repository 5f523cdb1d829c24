package io.entrollm.gpu;

import io.entrollm.model.StoredTensor;
import jcuda.driver.JCudaDriver;

import java.util.Arrays;

/**
 * GPU decode throughput of one coded tensor, next to a device-to-device copy of the same output size
 * in the same run: warm-up, then the median of timed repetitions (CUDA events).
 */
public final class DecodeBenchmark {
    /** One measurement. GB/s are 1e9 bytes per second. */
    public record Result(String tensor, long weights, long codedBytes, long outputBytes, double decodeMs, double copyMs) {
        public double decodeOutputGBps() { return outputBytes / (decodeMs / 1e3) / 1e9; }

        public double decodeInputGBps() { return codedBytes / (decodeMs / 1e3) / 1e9; }

        /** D2D copy bandwidth counting read + write, as memory bandwidth is usually quoted. */
        public double copyGBps() { return 2.0 * outputBytes / (copyMs / 1e3) / 1e9; }

        /** Decode output rate over the copy's read+write bandwidth. */
        public double fractionOfCopy() { return decodeOutputGBps() / copyGBps(); }
    }

    private DecodeBenchmark() {}

    public static Result run(CudaContext ctx, StoredTensor.Coded entry, OutputType type, int warmup, int repeats) {
        GpuDecoder decoder = new GpuDecoder(ctx);
        long outBytes = entry.elementCount() * type.bytesPerElement();
        try (GpuDecoder.Prepared p = decoder.prepare(entry); CudaStream stream = new CudaStream(); CudaEvents events = new CudaEvents();
             DeviceBuffer out = DeviceBuffer.allocate(ctx, outBytes, "decode output");
             DeviceBuffer copy = DeviceBuffer.allocate(ctx, outBytes, "copy target")) {
            for (int i = 0; i < warmup; i++) p.launch(type, out, stream);
            stream.synchronize();
            p.checkError();
            double[] decode = new double[repeats], d2d = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                decode[i] = events.time(stream, () -> p.launch(type, out, stream));
                d2d[i] = events.time(stream, () -> Cuda.check(JCudaDriver.cuMemcpyDtoDAsync(copy.pointer(), out.pointer(), outBytes,
                        stream.handle()), "cuMemcpyDtoDAsync"));
            }
            p.checkError();
            return new Result(entry.name(), entry.elementCount(), p.deviceBytes(), outBytes, median(decode), median(d2d));
        }
    }

    /** The median of a sample (the mean of the two middle values for an even count). */
    public static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
