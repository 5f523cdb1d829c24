package io.entrollm.analysis;

import io.entrollm.codec.SymbolPacking;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.HuffmanDecoder;
import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.codec.SymbolHistogram;
import io.entrollm.model.ModelSource;
import io.entrollm.quant.QuantizedTensor;
import io.entrollm.quant.Quantizer;
import io.entrollm.quant.Granularity;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The compressibility study of one model: for each quantization setting, the entropy of the symbols,
 * the size of the packed quantized bytes under our Huffman coding and each general-purpose codec (per
 * tensor and for the whole model), each codec's encode and decode speed, and the time to load the model
 * from storage of a given bandwidth, modelled and measured.
 *
 * <p>Speeds are measured on one thread (the codecs are single-threaded libraries; our Huffman runs on a
 * one-thread pool for a like-for-like figure), in MB/s of uncompressed (packed) bytes, medians of
 * repeated runs. Per-tensor sizes are computed on all threads.
 */
public final class Analyzer {
    /** Weights that count: 2-D float tensors with at least this many elements. */
    public static final int MIN_WEIGHTS = 1024;
    private static final double SPEED_BUDGET_SECONDS = 1.5;

    /** Progress: a step done out of a total, with what it was. */
    public interface Progress { void step(int done, int total, String what); }

    public record Options(List<AnalysisSetting> settings, List<String> codecs, List<Double> storageMBps, int repeats,
                          boolean includeEmbeddings, int threads, Path scratchDir) {}

    private Analyzer() {}

    public static boolean selected(Tensor t, boolean includeEmbeddings) {
        return io.entrollm.container.TensorSelection.quantize(t, includeEmbeddings) && t.elementCount() >= MIN_WEIGHTS;
    }

    /** Tensors of the {@link AnalysisSetting#STORED} setting: 2-D int8/uint8 weights as the model ships them. */
    public static boolean storedInt8(Tensor t, boolean includeEmbeddings) {
        return (t.dtype() == DType.I8 || t.dtype() == DType.U8) && weightMatrix(t, includeEmbeddings);
    }

    private static boolean weightMatrix(Tensor t, boolean includeEmbeddings) {
        if (t.rank() != 2 || t.elementCount() < MIN_WEIGHTS) return false;
        return includeEmbeddings || !io.entrollm.container.TensorSelection.isEmbeddingOrHead(t.name());
    }

    public static AnalysisResult analyze(ModelSource source, Options o, Progress progress) throws IOException {
        List<Tensor> floats = source.tensors().stream().filter(t -> selected(t, o.includeEmbeddings())).toList();
        List<Tensor> stored = source.tensors().stream().filter(t -> storedInt8(t, o.includeEmbeddings())).toList();
        boolean wantsStored = o.settings().stream().anyMatch(AnalysisSetting::stored);
        if (floats.isEmpty() && o.settings().stream().anyMatch(s -> !s.stored())) {
            throw new IllegalArgumentException(source.path() + ": no 2-D floating-point weights to quantize"
                    + (stored.isEmpty() ? "" : " (it ships int8 weights: analyse them with --bits stored)"));
        }
        if (wantsStored && stored.isEmpty()) throw new IllegalArgumentException(source.path() + ": no int8/uint8 weight matrices to analyse");
        List<Tensor> tensors = floats.isEmpty() ? stored : floats;
        List<Codec> codecs = Codecs.byNames(o.codecs());
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, o.threads()));
        ForkJoinPool single = new ForkJoinPool(1);
        int totalSteps = 1 + o.settings().size() * 3, step = 0;
        try {
            // the source bytes of the same tensors, for reference (what ZipNN/DFloat11 compress)
            byte[] sourceBytes = concat(tensors.stream().map(t -> t.data().toArray(ValueLayout.JAVA_BYTE)).toList());
            long sourceWeights = tensors.stream().mapToLong(Tensor::elementCount).sum();
            List<AnalysisResult.CodecResult> sourceCodecs = new ArrayList<>();
            for (Codec c : codecs) sourceCodecs.add(measure(c, sourceBytes, sourceWeights, o.repeats()));
            progress.step(++step, totalSteps, "source bytes");

            List<AnalysisResult.SettingResult> settings = new ArrayList<>();
            for (AnalysisSetting s : o.settings()) {
                List<Tensor> inputs = s.stored() ? stored : floats;
                List<TensorWork> work = pool.submit(() -> inputs.parallelStream().map(t -> quantize(t, s)).toList()).join();
                List<AnalysisResult.TensorResult> rows = pool.submit(() -> work.parallelStream().map(w -> tensorRow(w, codecs)).toList()).join();
                progress.step(++step, totalSteps, s.label() + ": per-tensor sizes");

                byte[] packed = concat(work.stream().map(w -> w.packed).toList());
                byte[] symbols = concat(work.stream().map(w -> w.q.symbols()).toList());
                long weights = symbols.length;
                List<AnalysisResult.CodecResult> results = new ArrayList<>();
                results.add(measureHuffman(work, packed.length, weights, o.repeats(), single));
                for (Codec c : codecs) results.add(measure(c, packed, weights, o.repeats()));
                progress.step(++step, totalSteps, s.label() + ": whole-model codecs");

                List<AnalysisResult.LoadTime> load = loadTimes(results, packed.length, o.storageMBps(), o.scratchDir());
                progress.step(++step, totalSteps, s.label() + ": load times");

                double entropy = rows.stream().mapToDouble(r -> r.entropyBits() * r.weights()).sum() / weights;
                double pair = rows.stream().mapToDouble(r -> r.pairEntropyBits() * r.weights()).sum() / weights;
                settings.add(new AnalysisResult.SettingResult(s, weights, packed.length, entropy, pair, rows, results, load));
            }
            String machine = Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch") + ", Java "
                    + Runtime.version();
            return new AnalysisResult(source.path().toString(), source.formatDescription(), machine, o.threads(), 1,
                    sourceBytes.length, sourceCodecs, settings, o.storageMBps());
        } finally {
            pool.shutdownNow();
            single.shutdownNow();
        }
    }

    private record TensorWork(Tensor t, QuantizedTensor q, byte[] packed, float[] weights) {}

    private static TensorWork quantize(Tensor t, AnalysisSetting s) {
        if (s.stored()) {
            // int8 is shifted by 128 so that symbol order follows value order, as for uint8
            byte[] symbols = t.data().toArray(ValueLayout.JAVA_BYTE);
            if (t.dtype() == DType.I8) for (int i = 0; i < symbols.length; i++) symbols[i] ^= (byte) 0x80;
            QuantizedTensor q = new QuantizedTensor(t.name(), t.shape(), 8, io.entrollm.quant.AppliedScheme.ASYM, Granularity.TENSOR,
                    symbols, new float[0], new float[0], 1, Math.max(1, symbols.length));
            return new TensorWork(t, q, symbols, null);
        }
        float[] w = TensorReader.toFloats(t);
        QuantizedTensor q = Quantizer.quantize(t.name(), t.shape(), w, s.bits(), s.scheme(), s.granularity());
        return new TensorWork(t, q, SymbolPacking.pack(q.symbols(), s.bits()), w);
    }

    private static AnalysisResult.TensorResult tensorRow(TensorWork w, List<Codec> codecs) {
        int bits = w.q.bits();
        SymbolHistogram h = SymbolHistogram.of(w.q.symbols(), 1 << bits);
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (Codec c : codecs) sizes.put(c.name(), (long) c.compress(w.packed).length);
        HuffmanStream stream = encode(w.q);
        return new AnalysisResult.TensorResult(w.t.name(), Arrays.stream(w.t.shape()).boxed().toList(), w.q.symbols().length,
                w.weights == null ? "stored" : io.entrollm.container.CompressReport.schemeLabel(w.q.scheme(), w.q.sign()), h.entropyBits(),
                PairEntropy.bitsPerSymbol(w.q.symbols(), bits), w.packed.length, stream.totalBits(),
                huffmanBytes(stream, bits), sizes, w.weights == null ? 0 : Quantizer.mse(w.weights, w.q));
    }

    /**
     * Coded bytes of a tensor as the .entro container stores them: bitstream (whole words) + codebook +
     * chunk index. Scales and zeros are left out here, as they are for every other codec: all codecs
     * would carry the same ones.
     */
    static long huffmanBytes(HuffmanStream s, int bits) {
        return 4L * s.words().length + (1L << bits) + 8L * s.chunkCount();
    }

    private static HuffmanStream encode(QuantizedTensor q) {
        HuffmanCodebook cb = HuffmanCodebook.build(SymbolHistogram.of(q.symbols(), 1 << q.bits()), Math.max(q.bits(), HuffmanEncoder.DEFAULT_MAX_CODE_LENGTH));
        return HuffmanEncoder.encode(q.symbols(), cb, HuffmanEncoder.DEFAULT_CHUNK_SYMBOLS);
    }

    static AnalysisResult.CodecResult measure(Codec c, byte[] input, long weights, int repeats) {
        Timing.Measured<byte[]> enc = Timing.median(repeats, SPEED_BUDGET_SECONDS, () -> c.compress(input));
        byte[] compressed = enc.result();
        Timing.Measured<byte[]> dec = Timing.median(repeats, SPEED_BUDGET_SECONDS, () -> c.decompress(compressed, input.length));
        if (!Arrays.equals(dec.result(), input)) throw new IllegalStateException(c.name() + " did not round-trip the analysed bytes");
        return new AnalysisResult.CodecResult(c.name(), input.length, compressed.length, (double) input.length / compressed.length,
                8.0 * compressed.length / weights, input.length / enc.medianSeconds() / 1e6, input.length / dec.medianSeconds() / 1e6,
                Math.min(enc.runs(), dec.runs()));
    }

    /** Our Huffman over all tensors (each with its own codebook), on one thread, timed like the others. */
    private static AnalysisResult.CodecResult measureHuffman(List<TensorWork> work, long packedBytes, long weights, int repeats,
                                                             ForkJoinPool single) {
        Timing.Measured<List<HuffmanStream>> enc = Timing.median(repeats, SPEED_BUDGET_SECONDS,
                () -> single.submit(() -> work.stream().map(w -> encode(w.q)).toList()).join());
        List<HuffmanStream> streams = enc.result();
        Timing.Measured<List<byte[]>> dec = Timing.median(repeats, SPEED_BUDGET_SECONDS,
                () -> single.submit(() -> streams.stream().map(HuffmanDecoder::decode).toList()).join());
        for (int i = 0; i < work.size(); i++) {
            if (!Arrays.equals(dec.result().get(i), work.get(i).q.symbols())) throw new IllegalStateException("Huffman did not round-trip " + work.get(i).t.name());
        }
        long bytes = 0;
        for (int i = 0; i < work.size(); i++) bytes += huffmanBytes(streams.get(i), work.get(i).q.bits());
        return new AnalysisResult.CodecResult("huffman", packedBytes, bytes, (double) packedBytes / bytes, 8.0 * bytes / weights,
                packedBytes / enc.medianSeconds() / 1e6, packedBytes / dec.medianSeconds() / 1e6, Math.min(enc.runs(), dec.runs()));
    }

    /**
     * Load time = read + decode. Sequential: bytes / bandwidth + decode time; pipelined: the slower of the
     * two (decoding overlaps the read, chunk by chunk). Measured: a file of the compressed size is read
     * through {@link BandwidthLimitedReader}, then decoded at the measured speed; "packed" is the
     * uncompressed baseline (no decode).
     */
    private static List<AnalysisResult.LoadTime> loadTimes(List<AnalysisResult.CodecResult> codecs, long packedBytes,
                                                           List<Double> storage, Path scratch) throws IOException {
        List<AnalysisResult.LoadTime> out = new ArrayList<>();
        List<AnalysisResult.CodecResult> all = new ArrayList<>();
        all.add(new AnalysisResult.CodecResult("packed", packedBytes, packedBytes, 1, 0, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, 0));
        all.addAll(codecs);
        Files.createDirectories(scratch);
        for (AnalysisResult.CodecResult c : all) {
            Path file = Files.createTempFile(scratch, "load-", ".bin");
            try {
                Files.write(file, new byte[(int) c.compressedBytes()]);
                double decode = Double.isInfinite(c.decodeMBps()) ? 0 : packedBytes / (c.decodeMBps() * 1e6);
                for (double mbps : storage) {
                    double read = c.compressedBytes() / (mbps * 1e6);
                    long t0 = System.nanoTime();
                    BandwidthLimitedReader.readAll(file, mbps * 1e6);
                    double measuredRead = (System.nanoTime() - t0) / 1e9;
                    out.add(new AnalysisResult.LoadTime(c.codec(), mbps, c.compressedBytes(), decode, read + decode,
                            Math.max(read, decode), measuredRead + decode));
                }
            } finally {
                Files.deleteIfExists(file);
            }
        }
        return out;
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(parts.stream().mapToInt(p -> p.length).sum());
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
