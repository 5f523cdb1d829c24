package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.format.gguf.GgufValue;
import io.entrollm.model.GgufModel;
import io.entrollm.model.ModelConfig;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code entrollm inspect}: config and tensor table of any supported model file or directory. */
@Command(name = "inspect", mixinStandardHelpOptions = true, header = "Print a model's config and a table of its tensors.",
        description = "Print the model config and a tensor table (name, dtype, shape, bytes, min/max/mean/std).")
final class InspectCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model directory, .safetensors, index .json, .gguf or .entro")
    Path model;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON to FILE.")
    Path json;

    @Option(names = "--no-stats", description = "Skip min/max/mean/std (faster on large models).")
    boolean noStats;

    @Option(names = "--context", paramLabel = "TOKENS",
            description = "Context for the GPU memory each residency mode needs (default: 2048, or the model's maximum if smaller).")
    Integer context;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (isEntro(model)) return inspectEntro(out);
        try (ModelSource source = ModelSources.open(model)) {
            List<Tensor> tensors = source.tensors();
            List<TensorStats> stats = tensors.parallelStream()
                    .map(t -> noStats ? null : TensorStats.of(t)).toList();

            out.println("model:   " + source.path());
            out.println("format:  " + source.formatDescription());
            out.printf("tensors: %d, %s%n", tensors.size(), Bytes.human(source.totalBytes()));
            source.config().ifPresent(c -> printConfig(out, c));
            var plan = residency();
            plan.ifPresent(r -> printResidency(out, r));
            if (source instanceof GgufModel gguf) printGgufMetadata(out, gguf.file().metadata());
            out.println();
            TextTable table = new TextTable("name", "dtype", "shape", "bytes", "min", "max", "mean", "std");
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                TensorStats s = stats.get(i);
                table.row(t.name(), t.dtype(), t.shapeString().replace(" ", ""), t.byteSize(),
                        num(s == null ? Double.NaN : s.min()), num(s == null ? Double.NaN : s.max()),
                        num(s == null ? Double.NaN : s.mean()), num(s == null ? Double.NaN : s.std()));
            }
            table.print(out);
            if (json != null) {
                ObjectNode root = report(source, tensors, stats);
                plan.ifPresent(r -> root.set("residency", residencyJson(r)));
                JsonReports.write(json, root);
                out.println("wrote " + json);
            }
        }
        return 0;
    }

    /** What each residency mode would need on the GPU, from metadata; empty for models that are not Llama-family decoders. */
    private java.util.Optional<Residency> residency() throws java.io.IOException {
        try (ModelSource hf = ModelSources.openHuggingFace(model)) {
            ModelConfig c = hf.config().orElse(null);
            if (c == null) return java.util.Optional.empty();
            int ctx = context != null ? context : Math.min(2048, c.maxPositionEmbeddings());
            if (ctx < 1) throw new IllegalArgumentException("--context must be positive");
            return java.util.Optional.of(new Residency(ctx, io.entrollm.residency.ModelFootprint.of(hf, ctx)));
        } catch (IllegalArgumentException | io.entrollm.format.FormatException e) {
            if (context != null) throw e;
            return java.util.Optional.empty(); // an encoder, or a checkpoint without every decoder tensor
        }
    }

    record Residency(int context, io.entrollm.residency.ModelFootprint footprint) {}

    private static void printResidency(PrintWriter out, Residency r) {
        io.entrollm.residency.ModelFootprint f = r.footprint();
        out.printf("GPU memory (context %d tokens): decoded %s, compressed %s, streamed %s (+ %s pinned host memory, or %s streaming from storage)%n",
                r.context(), Bytes.human(f.requiredBytes(io.entrollm.residency.ResidencyMode.DECODED)),
                Bytes.human(f.requiredBytes(io.entrollm.residency.ResidencyMode.COMPRESSED)),
                Bytes.human(f.requiredBytes(io.entrollm.residency.ResidencyMode.STREAMED)),
                Bytes.human(f.pinnedHostBytes(io.entrollm.residency.StreamSource.HOST)),
                Bytes.human(f.pinnedHostBytes(io.entrollm.residency.StreamSource.STORAGE)));
    }

    private static ObjectNode residencyJson(Residency r) {
        io.entrollm.residency.ModelFootprint f = r.footprint();
        ObjectNode o = JSON.createObjectNode();
        o.put("context", r.context());
        for (io.entrollm.residency.ResidencyMode m : io.entrollm.residency.ResidencyMode.values()) {
            o.put(m.name().toLowerCase(java.util.Locale.ROOT) + "_gpu_bytes", f.requiredBytes(m));
        }
        o.put("streamed_pinned_host_bytes", f.pinnedHostBytes(io.entrollm.residency.StreamSource.HOST));
        o.put("streamed_from_storage_pinned_host_bytes", f.pinnedHostBytes(io.entrollm.residency.StreamSource.STORAGE));
        return o;
    }

    private static boolean isEntro(Path p) throws java.io.IOException {
        if (!java.nio.file.Files.isRegularFile(p)) return false;
        try (var in = java.nio.file.Files.newInputStream(p)) {
            return io.entrollm.container.EntroFile.hasMagic(in.readNBytes(8));
        }
    }

    /** .entro files: the compression table from the file itself (nothing is decoded). */
    private Integer inspectEntro(PrintWriter out) throws java.io.IOException {
        try (io.entrollm.container.EntroFile f = io.entrollm.container.EntroFile.open(model)) {
            out.println("model:   " + f.path());
            out.println("format:  .entro v" + f.version() + ", " + f.sections().size()
                    + " sections, all checksums verified");
            out.printf("tensors: %d, %s%n", f.entries().size(), Bytes.human(f.fileBytes()));
            if (f.directory().config() != null) printConfig(out, f.directory().config());
            var plan = residency();
            plan.ifPresent(r -> printResidency(out, r));
            if (f.directory().settings() != null) out.println("settings: " + f.directory().settings());
            out.println();
            io.entrollm.container.CompressReport report = io.entrollm.container.CompressReport.fromFile(f);
            CompressionTables.print(out, report);
            if (json != null) {
                ObjectNode root = CompressionTables.json(report);
                root.put("path", f.path().toString());
                root.put("format", ".entro");
                if (f.directory().config() != null) root.set("config", JSON.valueToTree(f.directory().config()));
                root.set("settings", f.directory().settings());
                plan.ifPresent(r -> root.set("residency", residencyJson(r)));
                JsonReports.write(json, root);
                out.println("wrote " + json);
            }
        }
        return 0;
    }

    private static String num(double v) { return Double.isNaN(v) ? "-" : String.format("%.5g", v); }

    static void printConfig(PrintWriter out, ModelConfig c) {
        out.printf("config:  %s (%s): hidden %d, layers %d, heads %d, kv heads %d, head_dim %d, ffn %d, vocab %d%n",
                c.architecture(), c.modelType(), c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(),
                c.intermediateSize(), c.vocabSize());
        out.printf("         rms_eps %g, rope_theta %g%s, max_pos %d, tied embeddings %s, attention bias %s, mlp bias %s%n",
                c.rmsNormEps(), c.ropeTheta(), c.ropeScaling() == null ? "" : ", rope scaling " + c.ropeScaling(),
                c.maxPositionEmbeddings(), c.tieWordEmbeddings(), c.attentionBias(), c.mlpBias());
    }

    private static void printGgufMetadata(PrintWriter out, Map<String, GgufValue> metadata) {
        out.println("metadata:");
        metadata.forEach((k, v) -> out.printf("  %-45s %-8s %s%n", k, v.type(), v.summary().replace('\n', ' ')));
    }

    private static ObjectNode report(ModelSource source, List<Tensor> tensors, List<TensorStats> stats) {
        ObjectNode root = JSON.createObjectNode();
        root.put("path", source.path().toString());
        root.put("format", source.formatDescription());
        root.put("total_bytes", source.totalBytes());
        source.config().ifPresent(c -> root.set("config", JSON.valueToTree(c)));
        ArrayNode arr = root.putArray("tensors");
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            ObjectNode o = arr.addObject();
            o.put("name", t.name());
            o.put("dtype", t.dtype().name());
            ArrayNode shape = o.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            o.put("bytes", t.byteSize());
            TensorStats s = stats.get(i);
            if (s != null && t.elementCount() > 0) {
                o.put("min", s.min()).put("max", s.max()).put("mean", s.mean()).put("std", s.std());
            }
        }
        return root;
    }
}
