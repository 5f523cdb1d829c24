package io.entrollm.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.format.FormatException;
import io.entrollm.format.gguf.GgufFile;
import io.entrollm.format.gguf.GgufValue;
import io.entrollm.format.gguf.GgufValueType;
import io.entrollm.format.gguf.GgufWriter;
import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.synthetic.Donor;
import io.entrollm.synthetic.SyntheticModels;
import io.entrollm.tensor.DType;
import io.entrollm.tensor.Tensor;
import io.entrollm.testing.TestModels;
import io.entrollm.tokenizer.ByteLevelBpeTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A valid two-layer model with one thing made hostile at a time (config.json, tokenizer.json, GGUF
 * metadata and tensors): each is refused by a {@link FormatException} that is one line and names the
 * file, never an internal exception, an allocation sized by the file, or a model run half-right.
 */
class HostileModelTest {
    @TempDir static Path shared;
    static Path model;
    static Path gguf;
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void writeTheModel() throws IOException {
        model = shared.resolve("tiny");
        try (ModelSource donor = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            SyntheticModels.write(SyntheticModels.preset("tiny"), DType.BF16, 1, Donor.of(donor), model, null);
        }
        gguf = shared.resolve("tiny.gguf");
        try (ModelSource src = ModelSources.openHuggingFace(model)) {
            GgufConverter.convert(src, gguf, GgufConverter.OutType.F32);
        }
    }

    @TempDir Path tmp;

    /** A copy of the model with its config.json edited. */
    private Path withConfig(Consumer<ObjectNode> edit) throws IOException { return withJson("config.json", edit); }

    private Path withTokenizer(Consumer<ObjectNode> edit) throws IOException { return withJson("tokenizer.json", edit); }

    private Path withJson(String file, Consumer<ObjectNode> edit) throws IOException {
        Path dir = copyModel();
        ObjectNode root = (ObjectNode) JSON.readTree(dir.resolve(file).toFile());
        edit.accept(root);
        Files.writeString(dir.resolve(file), root.toString());
        return dir;
    }

    private Path copyModel() throws IOException {
        Path dir = Files.createTempDirectory(tmp, "model");
        try (var s = Files.list(model)) {
            for (Path f : s.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    /** Opens as `run` does (model, layout, tokenizer) and returns the refusal. */
    private static String refused(Path path) {
        FormatException e = assertThrows(FormatException.class, () -> {
            try (ModelSource s = ModelSources.openHuggingFace(path)) {
                LlamaLayout.of(s);
            }
            LanguageModel.load(path).close();
        });
        assertThat(e.getMessage()).doesNotContain("\n").startsWith(path.toString().replaceAll("/[^/]*$", ""));
        return e.getMessage();
    }

    @Test
    void theUneditedModelOpens() throws IOException {
        try (ModelSource s = ModelSources.openHuggingFace(copyModel())) {
            LlamaLayout.of(s);
        }
        try (ModelSource s = ModelSources.openHuggingFace(gguf)) {
            LlamaLayout.of(s);
        }
    }

    // ---------------------------------------------------------------- config.json

    @Test
    void aLayerCountThatDisagreesWithTheWeightsIsRefused() throws IOException {
        assertThat(refused(withConfig(c -> c.put("num_hidden_layers", 1)))).contains("declares 1 layers").contains("weights hold 2");
        // and no array is sized by a hostile count first
        assertThat(refused(withConfig(c -> c.put("num_hidden_layers", Integer.MAX_VALUE)))).contains("declares 2147483647 layers");
    }

    @Test
    void anUnsupportedArchitectureIsNamed() throws IOException {
        assertThat(refused(withConfig(c -> c.putArray("architectures").add("BertModel")))).contains("architecture BertModel").contains("not supported");
        assertThat(refused(withConfig(c -> c.put("model_type", "gpt2")))).contains("model_type gpt2").contains("not supported");
    }

    @Test
    void nonIntegerSizesAndZeroHeadsAreRefused() throws IOException {
        assertThat(refused(withConfig(c -> c.put("hidden_size", 64.5)))).contains("config.json").contains("\"hidden_size\": 64.5 is not a 32-bit integer");
        assertThat(refused(withConfig(c -> c.put("num_attention_heads", 0)))).contains("num_attention_heads must be positive");
        assertThat(refused(withConfig(c -> c.put("num_key_value_heads", "four")))).contains("num_key_value_heads");
    }

    @Test
    void anUnsupportedRopeScalingIsRefusedBeforeTheRun() throws IOException {
        assertThat(refused(withConfig(c -> c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0))))
                .contains("RoPE scaling type 'yarn' is not supported");
    }

    @Test
    void trailingDataAfterTheConfigIsRefused() throws IOException {
        Path dir = copyModel();
        Files.writeString(dir.resolve("config.json"), Files.readString(dir.resolve("config.json")) + "{}");
        assertThat(refused(dir)).contains("config.json is not valid JSON");
    }

    // ---------------------------------------------------------------- tokenizer.json

    @Test
    void malformedTokenizersAreRefusedNamingTheirFile() throws IOException {
        assertThat(refused(withTokenizer(t -> ((ObjectNode) t.path("model").path("vocab")).put("!", -5))))
                .contains("tokenizer.json").contains("has id -5, not a token id");
        assertThat(refused(withTokenizer(t -> t.withObject("model").putArray("merges").add(JSON.createArrayNode()))))
                .contains("is not two tokens");
        assertThat(refused(withTokenizer(t -> t.withObject("model").putArray("merges").add("nospace"))))
                .contains("merge \"nospace\" is not two tokens");
        assertThat(refused(withTokenizer(t -> t.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers")
                .add(JSON.createObjectNode().put("type", "Split").set("pattern", JSON.createObjectNode().put("Regex", "([a-")))
                .add(JSON.createObjectNode().put("type", "ByteLevel")))))
                .contains("pre-tokenizer regex is invalid");
        assertThat(refused(withTokenizer(t -> t.withArray("added_tokens").addObject().put("id", 5).put("content", ""))))
                .contains("an added token has no content");
        Path broken = copyModel();
        Files.writeString(broken.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\",\n  \"vocab\": [}");
        assertThat(refused(broken)).contains("tokenizer.json is not valid JSON").contains("line 2");
    }

    @Test
    void tokenIdsBeyondTheModelsVocabularyAreRefusedWithoutSizingAnArrayByThem() throws IOException {
        for (int id : new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE - 1, 300}) {
            String m = refused(withTokenizer(t -> t.withArray("added_tokens").addObject().put("id", id).put("content", "<x>")));
            assertThat(m).contains("tokenizer.json");
        }
    }

    @Test
    void textTheSplitRegexDoesNotMatchIsStillEncoded() throws IOException {
        String json = Files.readString(model.resolve("tokenizer.json"));
        ObjectNode t = (ObjectNode) JSON.readTree(json);
        t.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers")
                .add(JSON.createObjectNode().put("type", "Split").set("pattern", JSON.createObjectNode().put("Regex", "[a-c]+")))
                .add(JSON.createObjectNode().put("type", "ByteLevel"));
        ByteLevelBpeTokenizer tok = ByteLevelBpeTokenizer.fromJson(t.toString());
        String text = "abc, def xyz";
        assertThat(tok.decode(tok.encodeRaw(text), false)).isEqualTo(text);
    }

    // ---------------------------------------------------------------- GGUF metadata and tensors

    /** The GGUF with its metadata and tensors edited, written anew. */
    private Path ggufWith(Consumer<Map<String, GgufValue>> meta, java.util.function.UnaryOperator<List<Tensor>> tensors) throws IOException {
        Path out = Files.createTempFile(tmp, "edited", ".gguf");
        Files.delete(out);
        try (GgufFile f = GgufFile.open(gguf)) {
            Map<String, GgufValue> m = new LinkedHashMap<>(f.metadata());
            meta.accept(m);
            GgufWriter.write(out, m, tensors.apply(new ArrayList<>(f.tensors())));
        }
        return out;
    }

    @Test
    void zeroHeadsInGgufMetadataAreRefused() throws IOException {
        assertThat(refused(ggufWith(m -> m.put("llama.attention.head_count", GgufValue.u32(0)), t -> t)))
                .contains("llama.attention.head_count = 0 must be 1..");
    }

    @Test
    void aProjectionWithNoRowsIsRefused() throws IOException {
        Path p = ggufWith(m -> {}, ts -> {
            List<Tensor> out = new ArrayList<>();
            for (Tensor t : ts) {
                out.add(t.name().equals("blk.0.attn_q.weight")
                        ? new Tensor(t.name(), t.dtype(), new long[] {0, t.shape()[1]}, t.data().asSlice(0, 0)) : t);
            }
            return out;
        });
        assertThat(refused(p)).contains("0 rows do not split");
    }

    @Test
    void aTokenTypeArrayOfTheWrongTypeIsRefused() throws IOException {
        Path p = ggufWith(m -> {
            m.remove(GgufModel.HF_TOKENIZER_KEY);
            m.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.STRING, List.of("normal")));
        }, t -> t);
        assertThat(refused(p)).contains("tokenizer.ggml.token_type must be an array of integers, is ARRAY of STRING");
    }

    @Test
    void aVocabularySizeTheWeightsDoNotHaveIsRefusedWhenConverting() throws IOException {
        Path dir = withConfig(c -> c.put("vocab_size", Integer.MAX_VALUE));
        try (ModelSource s = ModelSources.openHuggingFace(dir)) {
            FormatException e = assertThrows(FormatException.class, () -> GgufConverter.convert(s, tmp.resolve("out.gguf"), GgufConverter.OutType.F32));
            assertThat(e.getMessage()).contains("model.embed_tokens.weight").contains("2147483647");
        }
        assertThat(tmp.resolve("out.gguf")).doesNotExist();
    }

    @Test
    void aGgufOfAnotherArchitectureCanBeInspectedButNotRun() throws IOException {
        Path bert = ggufWith(m -> m.put("general.architecture", GgufValue.string("bert")), t -> t);
        try (ModelSource s = ModelSources.openHuggingFace(bert)) {
            assertThat(s.config()).isEmpty();
            assertThat(s.tensors()).isNotEmpty();
            assertThat(s.whyNoConfig()).hasValue("architecture 'bert' is not supported (llama, qwen2, phi3 are)");
        }
        FormatException e = assertThrows(FormatException.class, () -> LanguageModel.load(bert).close());
        assertThat(e.getMessage()).isEqualTo(bert + ": architecture 'bert' is not supported (llama, qwen2, phi3 are)");
    }
}
