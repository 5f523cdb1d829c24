package io.entrollm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.container.CompressReport;

import java.io.PrintWriter;

/** The per-layer table and totals that {@code compress} prints and {@code inspect} shows for .entro files. */
final class CompressionTables {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CompressionTables() {}

    static void print(PrintWriter out, CompressReport r) {
        TextTable t = new TextTable("tensor", "shape", "scheme", "entropy b/w", "coded b/w", "overhead b/w", "mse");
        for (CompressReport.TensorRow row : r.tensors()) {
            String shape = java.util.Arrays.toString(row.shape()).replace(" ", "");
            if (row.coded()) {
                t.row(row.name(), shape, row.scheme(), f4(row.entropyBitsPerWeight()), f4(row.codedBitsPerWeight()),
                        f4(row.overheadBitsPerWeight()), String.format("%.3e", row.mse()));
            } else {
                t.row(row.name(), shape, "raw " + row.scheme(), "-", "-", "-", "-");
            }
        }
        t.print(out);
        out.println();
        out.printf("quantized weights:            %,d in %d tensors%n", r.quantizedWeights(), r.tensors().stream().filter(CompressReport.TensorRow::coded).count());
        out.printf("entropy (order 0):            %.4f bits/weight%n", r.entropyBitsPerWeight());
        boolean huffman = r.tensors().stream().anyMatch(row -> row.encoding().endsWith("huffman"));
        if (huffman) {
            out.printf("coded:                        %.4f bits/weight (%.2f%% above entropy)%n", r.bitsPerWeight(),
                    100 * (r.bitsPerWeight() / r.entropyBitsPerWeight() - 1));
            out.printf("coded + overhead:             %.4f bits/weight (codebooks, chunk index, scales)%n", r.bitsPerWeightWithOverhead());
            out.printf("  of which scales and zeros:  %.4f bits/weight%n", r.paramsBitsPerWeight());
        } else {
            // packed symbols: the entropy line says what Huffman coding would approach, not how far these are from it
            out.printf("packed:                       %.4f bits/weight (no entropy coding)%n", r.bitsPerWeight());
            out.printf("packed + scales:              %.4f bits/weight (scales and zeros %.4f)%n", r.bitsPerWeightWithOverhead(), r.paramsBitsPerWeight());
        }
        out.printf("quantized weights, coded:     %s = %.3f x packed uint8 (%s), %.3f x packed uint4 (%s)%n",
                Bytes.human(r.quantizedCodedBytes()), (double) r.quantizedCodedBytes() / r.packedUint8Bytes(), Bytes.human(r.packedUint8Bytes()),
                (double) r.quantizedCodedBytes() / r.packedUint4Bytes(), Bytes.human(r.packedUint4Bytes()));
        var ggml = r.tensors().stream().filter(row -> row.encoding().equals("ggml-huffman")).toList();
        if (!ggml.isEmpty()) {
            long blocks = ggml.stream().mapToLong(CompressReport.TensorRow::sourceBytes).sum();
            long coded = ggml.stream().mapToLong(row -> (row.codedBits() + row.overheadBits() + 7) / 8).sum();
            out.printf("GGML blocks, recoded:         %s = %.3f x the same blocks in the source (%s), every weight unchanged%n",
                    Bytes.human(coded), (double) coded / blocks, Bytes.human(blocks));
        }
        out.printf("file:                         %s = %.3f x source (%s)%n", Bytes.human(r.fileBytes()),
                (double) r.fileBytes() / r.sourceBytes(), Bytes.human(r.sourceBytes()));
        out.flush();
    }

    static ObjectNode json(CompressReport r) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode tensors = root.putArray("tensors");
        for (CompressReport.TensorRow row : r.tensors()) {
            ObjectNode o = tensors.addObject();
            o.put("name", row.name());
            ArrayNode shape = o.putArray("shape");
            for (long d : row.shape()) shape.add(d);
            o.put("encoding", row.encoding());
            o.put("scheme", row.scheme());
            o.put("weights", row.weights());
            o.put("source_bytes", row.sourceBytes());
            if (row.coded()) {
                o.put("entropy_bits_per_weight", row.entropyBitsPerWeight());
                o.put("coded_bits_per_weight", row.codedBitsPerWeight());
                o.put("overhead_bits_per_weight", row.overheadBitsPerWeight());
                o.put("coded_bits", row.codedBits());
                o.put("overhead_bits", row.overheadBits());
                o.put("params_bits", row.paramsBits());
                o.put("mse", row.mse());
            }
        }
        ObjectNode totals = root.putObject("totals");
        totals.put("quantized_weights", r.quantizedWeights());
        totals.put("entropy_bits_per_weight", r.entropyBitsPerWeight());
        totals.put("bits_per_weight", r.bitsPerWeight());
        totals.put("bits_per_weight_with_overhead", r.bitsPerWeightWithOverhead());
        totals.put("params_bits_per_weight", r.paramsBitsPerWeight());
        totals.put("quantized_coded_bytes", r.quantizedCodedBytes());
        totals.put("packed_uint8_bytes", r.packedUint8Bytes());
        totals.put("packed_uint4_bytes", r.packedUint4Bytes());
        totals.put("ratio_vs_packed_uint8", (double) r.quantizedCodedBytes() / r.packedUint8Bytes());
        totals.put("ratio_vs_packed_uint4", (double) r.quantizedCodedBytes() / r.packedUint4Bytes());
        totals.put("file_bytes", r.fileBytes());
        totals.put("source_bytes", r.sourceBytes());
        totals.put("ratio_vs_source", (double) r.fileBytes() / r.sourceBytes());
        return root;
    }

    private static String f4(double v) { return String.format("%.4f", v); }
}
