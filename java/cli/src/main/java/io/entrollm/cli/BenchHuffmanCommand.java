package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.HuffmanDecoder;
import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.codec.NativeHuffman;
import io.entrollm.codec.SymbolHistogram;
import io.entrollm.container.TensorSelection;
import io.entrollm.gpu.DecodeBenchmark;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.quant.Quantizer;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code entrollm bench huffman}: the CPU Huffman codec on real symbols, one thread, CPU time of the
 * calling thread, the decoders interleaved round by round (a shared machine drifts), medians; then the
 * whole decode on all cores. Symbols: a model's linear layers quantized per tensor (asym) at each of
 * {@code --bits}, concatenated, or raw symbol files (one byte a symbol). {@code --dump-symbols} writes
 * the model's symbols as such files, so another codec (Huff0) can be measured on the same bytes.
 */
@Command(name = "huffman", mixinStandardHelpOptions = true,
        description = "CPU Huffman decode/encode speed on real quantized symbols: reference vs fast decoder, one thread and all cores.")
final class BenchHuffmanCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", defaultValue = "test-models/sotu-tiny",
            description = "Model whose linear layers give the symbols. Default: ${DEFAULT-VALUE}.")
    Path model;

    @Option(names = "--bits", split = ",", defaultValue = "8,4", description = "Quantization bits of the model's symbols. Default: ${DEFAULT-VALUE}.")
    List<Integer> bits;

    @Option(names = "--symbols", split = ",", paramLabel = "FILE", description = "Raw symbol files (one byte a symbol) instead of a model.")
    List<Path> symbolFiles;

    @Option(names = "--dump-symbols", paramLabel = "DIR", description = "Also write the model's symbols to DIR/uint<bits>.sym.")
    Path dumpDir;

    @Option(names = "--max-code-length", defaultValue = "12", description = "Code length limit, as compress uses. Default: ${DEFAULT-VALUE}.")
    int maxCodeLength;

    @Option(names = "--chunk-symbols", defaultValue = "4096", description = "Symbols per chunk, as compress uses. Default: ${DEFAULT-VALUE}.")
    int chunkSymbols;

    @Option(names = "--rounds", defaultValue = "15", description = "Timed rounds (medians); 6 more warm up first. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON.") Path json;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** {@code nativeMBps}: the fast decoder with its inner loops in C, NaN where the library is not loaded; {@code fastMBps} is the default decoder's (C where loaded). */
    record Row(String data, long symbols, double codedBitsPerSymbol, double referenceMBps, double javaMBps, double nativeMBps,
               double encodeMBps, double allCoresMBps, int threads) {
        double fastMBps() { return Double.isNaN(nativeMBps) ? javaMBps : nativeMBps; }
        double speedup() { return fastMBps() / referenceMBps; }
        double scaling() { return allCoresMBps / fastMBps(); }
    }

    @Override
    public Integer call() throws Exception {
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be at least 1");
        model = Install.resolve(model);
        PrintWriter out = spec.commandLine().getOut();
        List<String> names = new ArrayList<>();
        List<byte[]> data = new ArrayList<>();
        if (symbolFiles != null && !symbolFiles.isEmpty()) {
            for (Path p : symbolFiles) {
                names.add(p.getFileName().toString());
                data.add(Files.readAllBytes(p));
            }
        } else {
            Path dir = model;
            for (int b : bits) {
                names.add("uint" + b + " " + dir.getFileName());
                data.add(linearLayerSymbols(dir, b));
                if (dumpDir != null) {
                    Files.createDirectories(dumpDir);
                    Files.write(dumpDir.resolve("uint" + b + ".sym"), data.getLast());
                }
            }
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        out.printf("one thread: CPU time of the thread, %d rounds after 6 warm-up, decoders interleaved, medians; all cores: %d threads, wall time%n",
                rounds, Runtime.getRuntime().availableProcessors());
        out.println("inner loops: " + NativeHuffman.status());
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) rows.add(measure(names.get(i), data.get(i), mx));
        TextTable t = new TextTable("symbols", "count", "coded bits/symbol", "reference decode MB/s", "fast decode MB/s (Java loops)",
                "fast decode MB/s (C loops)", "fast / reference", "encode MB/s", "all cores decode MB/s", "scaling");
        for (Row r : rows) {
            t.row(r.data(), r.symbols(), String.format("%.4f", r.codedBitsPerSymbol()), f(r.referenceMBps()), f(r.javaMBps()),
                    Double.isNaN(r.nativeMBps()) ? "not loaded" : f(r.nativeMBps()),
                    String.format("%.2fx", r.speedup()), f(r.encodeMBps()), f(r.allCoresMBps()),
                    String.format("%.2fx on %d", r.scaling(), r.threads()));
        }
        t.print(out);
        out.println("MB/s = millions of symbols (bytes out) per second.");
        if (json != null) JsonReports.write(json, toJson(rows));
        return 0;
    }

    private static String f(double v) { return String.format("%.1f", v); }

    private Row measure(String name, byte[] symbols, ThreadMXBean mx) {
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(symbols, 256), maxCodeLength);
        HuffmanStream stream = HuffmanEncoder.encode(symbols, cb, chunkSymbols);
        byte[] ref = new byte[symbols.length], fast = new byte[symbols.length], all = new byte[symbols.length];
        byte[] inC = NativeHuffman.available() ? new byte[symbols.length] : symbols.clone();
        int n = rounds + 6;
        double[] refMs = new double[n], fastMs = new double[n], nativeMs = new double[n], encMs = new double[n], allMs = new double[n];
        for (int r = 0; r < n; r++) {
            long t0 = mx.getCurrentThreadCpuTime();
            HuffmanDecoder.decodeReferenceSingleThread(stream, ref);
            long t1 = mx.getCurrentThreadCpuTime();
            HuffmanDecoder.decodeSingleThread(stream, fast, HuffmanDecoder.InnerLoops.JAVA);
            long tc = mx.getCurrentThreadCpuTime();
            if (NativeHuffman.available()) HuffmanDecoder.decodeSingleThread(stream, inC, HuffmanDecoder.InnerLoops.NATIVE);
            nativeMs[r] = (mx.getCurrentThreadCpuTime() - tc) / 1e6;
            long t2 = mx.getCurrentThreadCpuTime();
            HuffmanStream again = HuffmanEncoder.encodeSingleThread(symbols, cb, chunkSymbols);
            long t3 = mx.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            HuffmanDecoder.decodeInto(stream, all);
            long w1 = System.nanoTime();
            refMs[r] = (t1 - t0) / 1e6;
            fastMs[r] = (tc - t1) / 1e6;
            encMs[r] = (t3 - t2) / 1e6;
            allMs[r] = (w1 - w0) / 1e6;
            if (again.totalBits() != stream.totalBits() || !Arrays.equals(again.words(), stream.words())) {
                throw new IllegalStateException(name + ": the single-thread encoder wrote a different stream");
            }
        }
        if (!Arrays.equals(ref, symbols) || !Arrays.equals(fast, symbols) || !Arrays.equals(inC, symbols) || !Arrays.equals(all, symbols)) {
            throw new IllegalStateException(name + ": a decoder did not reproduce the symbols");
        }
        double mb = symbols.length / 1e6;
        return new Row(name, symbols.length, (double) stream.totalBits() / symbols.length, mb / (median(refMs) / 1e3),
                mb / (median(fastMs) / 1e3), NativeHuffman.available() ? mb / (median(nativeMs) / 1e3) : Double.NaN, mb / (median(encMs) / 1e3), mb / (median(allMs) / 1e3), Runtime.getRuntime().availableProcessors());
    }

    /** The median of the rounds after the 6 warm-up ones (fewer left the large decoder methods to C2 mid-measurement). */
    private static double median(double[] ms) { return DecodeBenchmark.median(Arrays.copyOfRange(ms, 6, ms.length)); }

    /** Every linear layer of the model (not embedding or head) quantized per tensor, asym, at {@code b} bits, concatenated. */
    static byte[] linearLayerSymbols(Path dir, int b) throws Exception {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try (ModelSource s = ModelSources.openHuggingFace(dir)) {
            for (Tensor t : s.tensors()) {
                if (!TensorSelection.quantize(t, false)) continue;
                all.writeBytes(Quantizer.quantize(t.name(), t.shape(), TensorReader.toFloats(t), b, QuantScheme.ASYM, Granularity.TENSOR).symbols());
            }
        }
        return all.toByteArray();
    }

    private static ObjectNode toJson(List<Row> rows) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("machine_threads", Runtime.getRuntime().availableProcessors());
        root.put("inner_loops", NativeHuffman.status());
        ArrayNode a = root.putArray("rows");
        for (Row r : rows) {
            ObjectNode row = a.addObject().put("symbols", r.data()).put("count", r.symbols()).put("coded_bits_per_symbol", r.codedBitsPerSymbol())
                    .put("reference_decode_mbps", r.referenceMBps()).put("fast_decode_mbps", r.fastMBps())
                    .put("java_loops_decode_mbps", r.javaMBps());
            if (!Double.isNaN(r.nativeMBps())) row.put("c_loops_decode_mbps", r.nativeMBps());
            row.put("encode_mbps", r.encodeMBps()).put("all_cores_decode_mbps", r.allCoresMBps()).put("threads", r.threads());
        }
        return root;
    }
}
