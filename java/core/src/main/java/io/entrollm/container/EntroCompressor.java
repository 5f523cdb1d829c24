package io.entrollm.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.codec.SymbolHistogram;
import io.entrollm.container.EntroLayout.SectionKind;
import io.entrollm.io.LittleEndian;
import io.entrollm.model.ModelSource;
import io.entrollm.quant.ErrorFeedback;
import io.entrollm.quant.QuantizedTensor;
import io.entrollm.quant.Quantizer;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.GgmlSymbols;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Model in, .entro out: each selected tensor is quantized, its symbols Huffman-coded in chunks;
 * the rest is stored raw. Tensors are processed in parallel (a bounded window, so memory stays
 * proportional to the cores, not the model) and written in model order.
 */
public final class EntroCompressor {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Called after each tensor is written. */
    public interface Progress {
        void tensorDone(int done, int total, String name);
    }

    private EntroCompressor() {}

    /** An encoded tensor, ready to be written; {@code side} set for GGML blocks kept as they are. */
    private record Encoded(Tensor source, QuantizedTensor quantized, HuffmanStream stream, double entropyBits, double mse, byte[] side) {
        Encoded(Tensor source, QuantizedTensor quantized, HuffmanStream stream, double entropyBits, double mse) {
            this(source, quantized, stream, entropyBits, mse, null);
        }
    }

    /**
     * Compresses {@code source} (Hugging Face names: open it with {@code ModelSources.openHuggingFace})
     * into {@code out}, atomically.
     */
    public static CompressReport compress(ModelSource source, Path out, CompressOptions options, Progress progress)
            throws IOException {
        return compress(source, out, options, progress, report -> {});
    }

    /** Work that must succeed before the output is put in place (a command's other outputs, written beside it). */
    @FunctionalInterface
    public interface BeforeCommit {
        void accept(CompressReport report) throws IOException;
    }

    /**
     * As {@link #compress(ModelSource, Path, CompressOptions, Progress)}; {@code beforeCommit} runs once every
     * byte is written and synced but before the file appears at {@code out}: if it throws, nothing appears.
     */
    public static CompressReport compress(ModelSource source, Path out, CompressOptions options, Progress progress,
                                          BeforeCommit beforeCommit) throws IOException {
        boolean keep = options.encoding() == CompressOptions.Encoding.KEEP_GGML;
        if (keep && source.gguf().isEmpty()) {
            throw new IllegalArgumentException(source.path() + ": --keep-quantization keeps the GGML blocks of a GGUF file; this is " + source.formatDescription());
        }
        List<Tensor> tensors = source.tensors();
        List<EntroEntry> entries = new ArrayList<>();
        List<CompressReport.TensorRow> rows = new ArrayList<>();
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "entrollm-compress");
            t.setDaemon(true);
            return t;
        });
        try (EntroWriter w = EntroWriter.create(out)) {
            Deque<Future<Encoded>> inFlight = new ArrayDeque<>();
            int next = 0;
            for (int i = 0; i < tensors.size(); i++) {
                while (next < tensors.size() && inFlight.size() < threads + 1) {
                    Tensor t = tensors.get(next++);
                    inFlight.add(pool.submit(() -> encode(t, options)));
                }
                Encoded e = await(inFlight.removeFirst());
                writeTensor(w, i, e, options.scaleDtype(), entries, rows);
                if (progress != null) progress.tensorDone(i + 1, tensors.size(), e.source.name());
            }
            source.tokenizerJson().ifPresent(json -> {
                try {
                    w.section(SectionKind.TOKENIZER, EntroLayout.NO_TENSOR, json.getBytes(StandardCharsets.UTF_8));
                } catch (IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            });
            java.util.Map<String, Integer> companions = new java.util.TreeMap<>();
            for (String name : ModelSource.COMPANION_FILES) {
                java.util.Optional<String> text = source.companionJson(name);
                if (text.isPresent()) companions.put(name, w.section(SectionKind.COMPANION, EntroLayout.NO_TENSOR, text.get().getBytes(StandardCharsets.UTF_8)));
            }
            EntroDirectory.GgufOrigin origin = keep ? GgufOrigins.record(w, source.gguf().orElseThrow(), source.config().orElse(null),
                    entries.stream().map(EntroEntry::name).toList()) : null;
            EntroDirectory dir = new EntroDirectory(source.config().orElse(null), hfConfig(source), sourceInfo(source, keep),
                    JSON.valueToTree(options), entries, origin, companions);
            w.directory(dir);
            w.seal();
            CompressReport report = new CompressReport(rows, sourceBytes(source, keep), w.sealedBytes());
            beforeCommit.accept(report);
            w.commit();
            return report;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Encoded await(Future<Encoded> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof IOException io) throw io;
            throw new IllegalStateException(e.getCause());
        }
    }

    private static Encoded encode(Tensor t, CompressOptions o) {
        if (o.encoding() == CompressOptions.Encoding.KEEP_GGML) return keepGgml(t, o);
        if (!TensorSelection.quantize(t, o.quantizesEmbeddings())) return new Encoded(t, null, null, 0, 0);
        float[] w = TensorReader.toFloats(t);
        int bits = o.bitsOf(t.name());
        QuantizedTensor q = Quantizer.quantize(t.name(), t.shape(), w, bits, o.scheme(), o.granularityOf(t.name()), o.scaleDtype() == DType.F16,
                o.scaleSearch(), o.scaleSearchWeights().get(t.name()));
        double[] inputs = o.errorFeedback().get(t.name());
        if (inputs != null) q = ErrorFeedback.refine(q, w, inputs, ErrorFeedback.DEFAULT_DAMPING);
        SymbolHistogram h = SymbolHistogram.of(q.symbols(), 1 << bits);
        HuffmanStream stream = o.encoding() == CompressOptions.Encoding.PACKED ? null
                : HuffmanEncoder.encode(q.symbols(), HuffmanCodebook.build(h, Math.max(bits, o.maxCodeLength())), o.chunkSymbols());
        return new Encoded(t, q, stream, h.entropyBits(), Quantizer.mse(w, q));
    }

    /** GGML blocks split into their quantized values (Huffman-coded) and side bytes; any other tensor raw. */
    private static Encoded keepGgml(Tensor t, CompressOptions o) {
        DType type = t.dtype();
        if (!type.isBlockQuantized() || t.rank() == 0 || t.dim(t.rank() - 1) % type.blockElements() != 0) return new Encoded(t, null, null, 0, 0);
        int n = Math.toIntExact(t.elementCount()), bits = GgmlSymbols.bits(type);
        long blocks = n / type.blockElements();
        byte[] symbols = new byte[n], side = new byte[Math.toIntExact(blocks * GgmlSymbols.sideBytes(type))];
        GgmlSymbols.split(type, t.data(), blocks, symbols, side);
        SymbolHistogram h = SymbolHistogram.of(symbols, 1 << bits);
        HuffmanStream stream = HuffmanEncoder.encode(symbols, HuffmanCodebook.build(h, Math.max(bits, o.maxCodeLength())), o.chunkSymbols());
        return new Encoded(t, null, stream, h.entropyBits(), 0, side);
    }

    private static void writeTensor(EntroWriter w, int index, Encoded e, DType scaleDtype, List<EntroEntry> entries,
                                    List<CompressReport.TensorRow> rows) throws IOException {
        Tensor t = e.source;
        if (e.side != null) {
            writeGgml(w, index, e, entries, rows);
            return;
        }
        if (e.quantized == null) {
            int raw = w.section(SectionKind.RAW, index, t.data());
            entries.add(new EntroEntry.Raw(t.name(), t.shape(), t.dtype(), raw));
            rows.add(new CompressReport.TensorRow(t.name(), t.shape(), "raw", t.dtype().name(), t.elementCount(), Double.NaN,
                    t.byteSize() * 8, 0, 0, t.byteSize()));
            return;
        }
        QuantizedTensor q = e.quantized;
        HuffmanStream s = e.stream;
        // f16 parameters were rounded to float16 by the quantizer: storing them in 16 bits is exact
        byte[] params = scaleDtype == DType.F16 ? LittleEndian.halves(q.scales(), q.zeros()) : LittleEndian.floats(q.scales(), q.zeros());
        if (s == null) { // packed baseline
            byte[] packed = io.entrollm.codec.SymbolPacking.pack(q.symbols(), q.bits());
            int p = w.section(SectionKind.PARAMS, index, params);
            int k = w.section(SectionKind.PACKED, index, packed);
            entries.add(new EntroEntry.Packed(t.name(), t.shape(), t.dtype(), q.bits(), q.scheme(), q.granularity(), q.groupSize(), q.sign(),
                    p, scaleDtype, k, e.entropyBits, e.mse));
            rows.add(new CompressReport.TensorRow(t.name(), t.shape(), "packed", CompressReport.schemeLabel(q.scheme(), q.sign()),
                    t.elementCount(), e.entropyBits, 8L * packed.length, 8L * params.length, e.mse, t.byteSize(), 8L * params.length));
            return;
        }
        int p = w.section(SectionKind.PARAMS, index, params);
        HuffmanSections h = HuffmanSections.write(w, index, s, q.bits());
        entries.add(new EntroEntry.Coded(t.name(), t.shape(), t.dtype(), q.bits(), q.scheme(), q.granularity(), q.groupSize(),
                q.sign(), s.chunkSymbols(), s.totalBits(), s.codebook().maxLength(), p, scaleDtype, h.codebook, h.chunkIndex, h.bitstream,
                e.entropyBits, e.mse));
        long overheadBits = 8L * (params.length + h.bytes) - s.totalBits();
        rows.add(new CompressReport.TensorRow(t.name(), t.shape(), "huffman", CompressReport.schemeLabel(q.scheme(), q.sign()), t.elementCount(), e.entropyBits,
                s.totalBits(), overheadBits, e.mse, t.byteSize(), 8L * params.length));
    }


    private static void writeGgml(EntroWriter w, int index, Encoded e, List<EntroEntry> entries, List<CompressReport.TensorRow> rows) throws IOException {
        Tensor t = e.source;
        HuffmanStream s = e.stream;
        int bits = GgmlSymbols.bits(t.dtype());
        int side = w.section(SectionKind.SIDE, index, e.side);
        HuffmanSections h = HuffmanSections.write(w, index, s, bits);
        EntroEntry.GgmlCoded g = new EntroEntry.GgmlCoded(t.name(), t.shape(), t.dtype(), bits, s.chunkSymbols(), s.totalBits(),
                s.codebook().maxLength(), side, h.codebook, h.chunkIndex, h.bitstream, e.entropyBits);
        entries.add(g);
        rows.add(CompressReport.ggmlRow(g, e.side.length, h.bytes));
    }

    /** The three sections of a Huffman-coded stream (docs/FORMAT.md), their indices and their total bytes. */
    private record HuffmanSections(int codebook, int chunkIndex, int bitstream, long bytes) {
        static HuffmanSections write(EntroWriter w, int tensor, HuffmanStream s, int bits) throws IOException {
            byte[] lengths = new byte[1 << bits];
            for (int sym = 0; sym < lengths.length; sym++) lengths[sym] = (byte) s.codebook().length(sym);
            byte[] index8 = LittleEndian.longs(s.chunkBitOffsets());
            byte[] words = LittleEndian.ints(s.words());
            return new HuffmanSections(w.section(SectionKind.CODEBOOK, tensor, lengths), w.section(SectionKind.CHUNK_INDEX, tensor, index8),
                    w.section(SectionKind.BITSTREAM, tensor, words), (long) lengths.length + index8.length + words.length);
        }
    }

    private static JsonNode hfConfig(ModelSource source) {
        return source.configJson().map(s -> {
            try {
                return JSON.readTree(s);
            } catch (IOException ex) {
                throw new IllegalArgumentException(source.path() + ": config.json is not valid JSON");
            }
        }).orElse(null);
    }

    private static JsonNode sourceInfo(ModelSource source, boolean keep) {
        ObjectNode n = JSON.createObjectNode();
        n.put("path", source.path().toAbsolutePath().normalize().getFileName().toString());
        n.put("format", source.formatDescription());
        n.put("bytes", sourceBytes(source, keep));
        return n;
    }

    /** What the file is compared with: the source's tensor bytes, or, when a GGUF is kept whole, the GGUF file. */
    private static long sourceBytes(ModelSource source, boolean keep) {
        return keep ? source.gguf().orElseThrow().bytes().byteSize() : source.totalBytes();
    }
}
