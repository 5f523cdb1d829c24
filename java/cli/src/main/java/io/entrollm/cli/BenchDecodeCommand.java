package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.codec.HuffmanDecoder;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.container.CompressOptions;
import io.entrollm.container.EntroCompressor;
import io.entrollm.container.EntroEntry;
import io.entrollm.container.EntroFile;
import io.entrollm.format.safetensors.SafetensorsWriter;
import io.entrollm.gpu.Cuda;
import io.entrollm.gpu.CudaContext;
import io.entrollm.gpu.DecodeBenchmark;
import io.entrollm.gpu.OutputType;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.model.StoredTensor;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.FloatBits;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code entrollm bench decode}: Huffman decode throughput of coded tensors on the CPU (all cores) and
 * on the GPU (CUDA events, next to a device-to-device copy of the same output size), medians after
 * warm-up. Input: a .entro file, or synthetic weight matrices of real-model shapes.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = "Decode throughput (GB/s of coded bytes in and decoded bytes out), CPU and GPU, vs a GPU device-to-device copy.")
final class BenchDecodeCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL.entro",
            description = "A .entro file; without it, synthetic tensors of --shapes are generated and coded.")
    Path model;

    @Option(names = "--shapes", split = ",", defaultValue = "4096x4096,14336x4096",
            description = "Synthetic weight shapes (rows x cols). Default: ${DEFAULT-VALUE}.")
    List<String> shapes;

    @Option(names = "--bits", split = ",", defaultValue = "8,4", description = "Bit widths of the synthetic tensors. Default: ${DEFAULT-VALUE}.")
    List<Integer> bits;

    @Option(names = "--device", defaultValue = "all", description = "cpu, gpu or all (gpu where a device exists). Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed runs before the timed ones (JIT, caches, clocks). Default: ${DEFAULT-VALUE}.") int warmup;

    @Option(names = "--repeats", defaultValue = "10", description = "Timed repetitions (median). Default: ${DEFAULT-VALUE}.") int repeats;

    @Option(names = "--max-tensors", defaultValue = "8", description = "For a .entro file: the largest N coded tensors. Default: ${DEFAULT-VALUE}.")
    int maxTensors;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.") Path json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** {@code cpuOneThreadMs}: the same decode on the calling thread alone, timed in the same rounds (the scaling is their ratio). */
    record Row(String tensor, int bits, long weights, long codedBytes, double cpuMs, double cpuOneThreadMs, double cpuOutGBps,
               DecodeBenchmark.Result gpu) {}

    @Override
    public Integer call() throws Exception {
        boolean cpu = !device.equals("gpu"), gpuWanted = !device.equals("cpu");
        if (!List.of("cpu", "gpu", "all").contains(device)) throw new IllegalArgumentException("--device must be cpu, gpu or all");
        String why = gpuWanted ? Cuda.unavailableReason() : null;
        if (device.equals("gpu") && why != null) throw new IllegalArgumentException("--device gpu: " + why);
        boolean gpu = gpuWanted && why == null;
        PrintWriter out = spec.commandLine().getOut();
        List<Path> files = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        try (TempDir tmp = model == null ? TempDir.create("entrollm-bench") : null; CudaContext ctx = gpu ? CudaContext.open(0) : null) {
            if (model != null) {
                files.add(model);
            } else {
                for (int b : bits) files.add(synthetic(tmp.path(), b));
            }
            if (ctx != null) out.printf("GPU: %s (compute %s), %s%n", ctx.deviceName(), ctx.computeCapability(), memory(ctx));
            else if (gpuWanted) out.println("GPU: not measured (" + why + ")");
            out.printf("CPU: %d threads; %d warm-up, median of %d; inner loops: %s%n", Runtime.getRuntime().availableProcessors(), warmup, repeats,
                    io.entrollm.codec.NativeHuffman.status());
            for (Path p : files) {
                try (EntroFile f = EntroFile.open(p)) {
                    List<EntroEntry.Coded> coded = f.entries().stream().filter(e -> e instanceof EntroEntry.Coded)
                            .map(e -> (EntroEntry.Coded) e).sorted((a, b) -> Long.compare(b.elementCount(), a.elementCount()))
                            .limit(maxTensors).toList();
                    // warm every tensor up before timing any: the first one timed used to run before the JIT had compiled the decoder
                    if (cpu) for (EntroEntry.Coded c : coded) for (int i = 0; i < warmup; i++) HuffmanDecoder.decode(((StoredTensor.Coded) f.stored(c)).stream());
                    for (EntroEntry.Coded c : coded) rows.add(measure(f, c, cpu, ctx));
                }
            }
        }
        TextTable t = new TextTable("tensor", "bits", "weights", "coded MB", "CPU ms", "CPU ms, 1 thread", "CPU GB/s out", "GPU ms", "GPU GB/s in",
                "GPU GB/s out (bf16)", "D2D copy GB/s", "decode / copy");
        for (Row r : rows) {
            DecodeBenchmark.Result g = r.gpu;
            t.row(r.tensor, r.bits, r.weights, String.format("%.2f", r.codedBytes / 1e6), f(r.cpuMs), f(r.cpuOneThreadMs), f(r.cpuOutGBps),
                    g == null ? "-" : String.format("%.4f", g.decodeMs()), g == null ? "-" : f(g.decodeInputGBps()),
                    g == null ? "-" : f(g.decodeOutputGBps()), g == null ? "-" : f(g.copyGBps()),
                    g == null ? "-" : String.format("%.1f%%", 100 * g.fractionOfCopy()));
        }
        t.print(out);
        if (cpu && !rows.isEmpty()) {
            double all = rows.stream().mapToDouble(Row::cpuMs).sum(), one = rows.stream().mapToDouble(Row::cpuOneThreadMs).sum();
            out.printf("CPU, these tensors: %.1f ms on 1 thread, %.1f ms on %d (sums of medians): scaling %.2fx%n", one, all,
                    Runtime.getRuntime().availableProcessors(), one / all);
        }
        out.println("CPU output: uint8 symbols; GPU output: bf16 weights (decode fused with dequantization); copy counts read + write.");
        if (json != null) JsonReports.write(json, toJson(rows));
        return 0;
    }

    private static String f(double v) { return Double.isNaN(v) ? "-" : String.format("%.3f", v); }

    private static String memory(CudaContext ctx) {
        long[] m = ctx.memoryInfo();
        return String.format("%.1f of %.1f GiB free", m[0] / 1073741824.0, m[1] / 1073741824.0);
    }

    private Row measure(EntroFile f, EntroEntry.Coded c, boolean cpu, CudaContext ctx) {
        double cpuMs = Double.NaN, cpuOneMs = Double.NaN, cpuGBps = Double.NaN;
        if (cpu) {
            HuffmanStream stream = ((StoredTensor.Coded) f.stored(c)).stream();
            // one output buffer for every run, as the engine's loader reuses its pieces: the time is decoding, not zeroing a new array
            byte[] symbols = new byte[Math.toIntExact(stream.symbolCount())];
            for (int i = 0; i < warmup; i++) {
                HuffmanDecoder.decodeInto(stream, symbols);
                HuffmanDecoder.decodeSingleThread(stream, symbols);
            }
            // all cores and the calling thread alone, alternating: the scaling comes from the same moments of a shared machine
            double[] ms = new double[repeats], oneMs = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                HuffmanDecoder.decodeInto(stream, symbols);
                long t1 = System.nanoTime();
                HuffmanDecoder.decodeSingleThread(stream, symbols);
                ms[i] = (t1 - t0) / 1e6;
                oneMs[i] = (System.nanoTime() - t1) / 1e6;
            }
            cpuMs = DecodeBenchmark.median(ms);
            cpuOneMs = DecodeBenchmark.median(oneMs);
            cpuGBps = c.elementCount() / (cpuMs / 1e3) / 1e9;
        }
        DecodeBenchmark.Result gpu = ctx == null ? null : DecodeBenchmark.run(ctx, (StoredTensor.Coded) f.stored(c), OutputType.BF16, warmup, repeats);
        long coded = f.sections().get(c.bitstreamSection()).length() + f.sections().get(c.chunkIndexSection()).length()
                + f.sections().get(c.codebookSection()).length() + f.sections().get(c.paramsSection()).length();
        return new Row(c.name(), c.bits(), c.elementCount(), coded, cpuMs, cpuOneMs, cpuGBps, gpu);
    }

    /**
     * Weight matrices of the requested shapes with a realistic distribution: N(0, 0.02) with 0.1% of
     * outliers from N(0, 0.2), stored bf16, compressed per tensor (mixed scheme) into one .entro.
     */
    private Path synthetic(Path dir, int b) throws Exception {
        Path st = dir.resolve("synthetic-u" + b + ".safetensors");
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> tensors = new ArrayList<>();
            Random r = new Random(b);
            for (String shape : shapes) {
                String[] d = shape.toLowerCase().split("x");
                if (d.length != 2) throw new IllegalArgumentException("--shapes takes ROWSxCOLS, not '" + shape + "'");
                long rows = Long.parseLong(d[0]), cols = Long.parseLong(d[1]), n = rows * cols;
                MemorySegment seg = arena.allocate(2 * n, 64);
                for (long i = 0; i < n; i++) {
                    double v = r.nextInt(1000) == 0 ? r.nextGaussian() * 0.2 : r.nextGaussian() * 0.02;
                    seg.set(TensorReader.I16, 2 * i, FloatBits.floatToBf16((float) v));
                }
                tensors.add(new Tensor("synthetic." + shape + ".weight", DType.BF16, new long[] {rows, cols}, seg));
            }
            SafetensorsWriter.write(st, tensors, Map.of());
        }
        Path entro = dir.resolve("synthetic-u" + b + ".entro");
        try (ModelSource src = ModelSources.open(st)) {
            EntroCompressor.compress(src, entro, CompressOptions.defaults(b, QuantScheme.MIXED, Granularity.TENSOR), null);
        }
        Files.delete(st);
        return entro;
    }

    private static ObjectNode toJson(List<Row> rows) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        ArrayNode arr = root.putArray("rows");
        for (Row r : rows) {
            ObjectNode o = arr.addObject();
            o.put("tensor", r.tensor).put("bits", r.bits).put("weights", r.weights).put("coded_bytes", r.codedBytes);
            if (!Double.isNaN(r.cpuMs)) o.put("cpu_ms", r.cpuMs).put("cpu_one_thread_ms", r.cpuOneThreadMs).put("cpu_symbols_gbps", r.cpuOutGBps);
            if (r.gpu != null) {
                o.put("gpu_ms", r.gpu.decodeMs()).put("gpu_in_gbps", r.gpu.decodeInputGBps()).put("gpu_out_gbps", r.gpu.decodeOutputGBps())
                        .put("d2d_copy_gbps", r.gpu.copyGBps()).put("fraction_of_copy", r.gpu.fractionOfCopy());
            }
        }
        return root;
    }
}
