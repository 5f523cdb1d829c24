package io.entrollm.container;

import io.entrollm.format.FormatException;
import io.entrollm.format.gguf.GgufValue;
import io.entrollm.format.gguf.GgufWriter;
import io.entrollm.infer.CpuCausalLm;
import io.entrollm.infer.LlamaWeights;
import io.entrollm.model.GgufConverter;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.model.StoredTensor;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@code compress --keep-quantization}: a GGUF's GGML blocks Huffman-coded as they are, the file given back
 * byte for byte, and the .entro computing exactly what the GGUF computes. (Against llama.cpp's own files:
 * LlamaCppInteropTest in the CLI module.)
 */
class KeepQuantizationTest {
    @TempDir Path tmp;

    private static final CompressOptions KEEP = CompressOptions.defaults(8, QuantScheme.MIXED, Granularity.TENSOR)
            .withEncoding(CompressOptions.Encoding.KEEP_GGML);

    private Path keep(Path gguf) throws IOException {
        Path entro = tmp.resolve(gguf.getFileName() + ".entro");
        try (ModelSource s = ModelSources.openHuggingFace(gguf)) {
            EntroCompressor.compress(s, entro, KEEP, null);
        }
        return entro;
    }

    /** sotu-tiny converted to GGUF with {@code type} blocks. */
    private Path sotuGguf(GgufConverter.OutType type) throws IOException {
        Path gguf = tmp.resolve("sotu-" + type.name().toLowerCase(java.util.Locale.ROOT) + ".gguf");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            GgufConverter.convert(s, gguf, type);
        }
        return gguf;
    }

    private void assertGivesBack(Path gguf, Path entro) throws IOException {
        Path back = tmp.resolve("back-" + gguf.getFileName());
        try (EntroFile f = EntroFile.open(entro)) {
            assertEquals(2, f.version());
            GgufOrigins.rebuild(f, back);
        }
        assertEquals(-1, Files.mismatch(gguf, back), "rebuilt " + back + " differs from " + gguf);
    }

    @Test
    void everyGgmlBlockTypeComesBackByteForByteBesideRawTensorsAndAnUnmappedTensor() throws IOException {
        // an architecture we do not run: tensors keep their GGUF names; random blocks of every type, f32 and bf16 raw
        Random r = new Random(3);
        List<Tensor> tensors = new ArrayList<>();
        for (DType t : new DType[] {DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q2_K, DType.Q3_K,
                DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.Q8_K, DType.F32, DType.BF16}) {
            long[] shape = {3, 512};
            byte[] data = new byte[Math.toIntExact(t.byteSize(3 * 512))];
            r.nextBytes(data);
            tensors.add(new Tensor("w." + t.name().toLowerCase(), t, shape, MemorySegment.ofArray(data)));
        }
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        meta.put("general.architecture", GgufValue.string("notllama"));
        meta.put("general.alignment", GgufValue.u32(64));
        Path gguf = tmp.resolve("all-types.gguf");
        GgufWriter.write(gguf, meta, tensors);
        Path entro = keep(gguf);
        try (EntroModel m = EntroModel.open(entro)) {
            for (Tensor t : tensors) {
                StoredTensor s = m.stored(t.name());
                Tensor back = s instanceof StoredTensor.GgmlBlocks g ? g.tensor() : ((StoredTensor.Raw) s).tensor();
                assertEquals(t.dtype(), back.dtype(), t.name());
                assertEquals(-1, t.data().mismatch(back.data()), t.name());
            }
            assertThat(m.file().entries().stream().filter(e -> e instanceof EntroEntry.GgmlCoded).count()).isEqualTo(11);
        }
        assertGivesBack(gguf, entro);
    }

    @Test
    void aLlamaGgufComesBackAndTheEntroComputesExactlyWhatTheGgufComputes() throws IOException {
        Path gguf = sotuGguf(GgufConverter.OutType.Q4_0);
        Path entro = keep(gguf);
        assertGivesBack(gguf, entro);
        int[] ids = {0, 464, 1545, 289, 263, 2466, 330, 17};
        float[] fromGguf, fromEntro;
        try (ModelSource s = ModelSources.openHuggingFace(gguf); CpuCausalLm lm = new CpuCausalLm(LlamaWeights.loadStored(s))) {
            lm.startSequence(ids.length);
            fromGguf = lm.forward(ids, 0, ids.length);
        }
        try (ModelSource s = ModelSources.openHuggingFace(entro); CpuCausalLm lm = new CpuCausalLm(LlamaWeights.loadStored(s))) {
            lm.startSequence(ids.length);
            fromEntro = lm.forward(ids, 0, ids.length);
        }
        // the same blocks through the same kernels; only the Vector API's lane reductions may round differently
        // between the JIT's tiers (two runs on the GGUF alone differ by as much), hence a tolerance, not bit equality
        double scale = 0;
        for (float v : fromGguf) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < fromGguf.length; i++) assertEquals(fromGguf[i], fromEntro[i], 1e-5 * scale, "logit " + i);
        try (EntroFile f = EntroFile.open(entro)) {
            // q/k projections are held in Hugging Face row order and permuted back on the way out
            assertThat(f.directory().gguf().tensors()).anyMatch(t -> t.name().equals("blk.0.attn_q.weight") && t.ropeHeads() == 8);
            assertThat(f.entry("model.layers.0.self_attn.q_proj.weight")).get().isInstanceOf(EntroEntry.GgmlCoded.class);
        }
    }

    @Test
    void aFlippedBitInTheSideBytesOrTheGgufHeaderIsDetected() throws IOException {
        Path gguf = sotuGguf(GgufConverter.OutType.Q4_0);
        byte[] original = Files.readAllBytes(keep(gguf));
        List<EntroLayout.Section> sections;
        try (EntroFile f = EntroFile.open(tmp.resolve("sotu-q4_0.gguf.entro"))) {
            sections = f.sections();
        }
        for (EntroLayout.SectionKind kind : new EntroLayout.SectionKind[] {EntroLayout.SectionKind.SIDE, EntroLayout.SectionKind.GGUF_HEADER}) {
            EntroLayout.Section s = sections.stream().filter(x -> x.kind() == kind).findFirst().orElseThrow();
            byte[] b = original.clone();
            b[(int) (s.offset() + s.length() / 2)] ^= 4;
            Path p = Files.write(tmp.resolve("flipped-" + kind + ".entro"), b);
            assertThat(assertThrows(FormatException.class, () -> EntroFile.open(p).close()).getMessage())
                    .contains(kind.name()).contains("checksum mismatch");
        }
    }

    @Test
    void onlyGgufFilesCanKeepTheirQuantization() throws IOException {
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> EntroCompressor.compress(s, tmp.resolve("x.entro"), KEEP, null));
            assertThat(e.getMessage()).contains("--keep-quantization").contains("safetensors");
        }
        assertThat(tmp.resolve("x.entro")).doesNotExist();
    }

    @Test
    void anEntroNotMadeFromAGgufHasNothingToGiveBack() throws IOException {
        Path entro = tmp.resolve("u8.entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, entro, CompressOptions.defaults(8, QuantScheme.MIXED, Granularity.TENSOR), null);
        }
        try (EntroFile f = EntroFile.open(entro)) {
            assertThat(assertThrows(IllegalArgumentException.class, () -> GgufOrigins.rebuild(f, tmp.resolve("o.gguf"))).getMessage())
                    .contains("not compressed from a GGUF file with --keep-quantization");
        }
    }

    @Test
    void aRebuildThatDoesNotMatchTheSourceChecksumLeavesNoFile() throws IOException {
        Path gguf = sotuGguf(GgufConverter.OutType.Q8_0);
        Path entro = keep(gguf);
        // the same file with the recorded CRC32C changed (the directory is rewritten, every checksum of the container kept valid)
        byte[] edited = EntroBytes.withDirectory(Files.readAllBytes(entro), root -> {
            var g = (com.fasterxml.jackson.databind.node.ObjectNode) root.get("gguf");
            g.put("crc32c", g.get("crc32c").asLong() ^ 1);
        });
        Path crafted = Files.write(tmp.resolve("crafted.entro"), edited);
        Path out = tmp.resolve("never.gguf");
        try (EntroFile f = EntroFile.open(crafted)) {
            assertThat(assertThrows(FormatException.class, () -> GgufOrigins.rebuild(f, out)).getMessage()).contains("CRC32C");
        }
        assertThat(out).doesNotExist();
    }
}
