package io.entrollm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.format.FormatException;
import io.entrollm.format.gguf.GgufFile;
import io.entrollm.format.gguf.GgufValue;
import io.entrollm.format.gguf.GgufWriter;
import io.entrollm.infer.LanguageModel;
import io.entrollm.model.GgufConverter;
import io.entrollm.model.GgufModel;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A GGUF without tokenizer.huggingface.json (as llama.cpp writes them) tokenizes from tokenizer.ggml.*. */
class GgufTokenizersTest {
    @TempDir Path tmp;

    private Path ggufWithout(String... dropKeys) throws IOException {
        Path full = tmp.resolve("full.gguf"), stripped = tmp.resolve("stripped.gguf");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            GgufConverter.convert(s, full, GgufConverter.OutType.SOURCE);
        }
        try (GgufFile f = GgufFile.open(full)) {
            Map<String, GgufValue> meta = new LinkedHashMap<>(f.metadata());
            meta.remove(GgufModel.HF_TOKENIZER_KEY);
            for (String k : dropKeys) meta.remove(k);
            if (dropKeys.length > 0 && dropKeys[0].equals("tokenizer.ggml.model")) meta.put("tokenizer.ggml.model", GgufValue.string("llama"));
            GgufWriter.write(stripped, meta, f.tensors());
        }
        return stripped;
    }

    @Test
    void reproducesTheReferenceIdsFromMetadataAlone() throws IOException {
        Path gguf = ggufWithout();
        JsonNode ref = new ObjectMapper().readTree(TestModels.sotuTiny().resolve("reference.json").toFile());
        try (LanguageModel lm = LanguageModel.load(gguf)) {
            for (JsonNode p : ref.get("prompts")) {
                int[] expected = io.entrollm.testing.Fixtures.ints(p.get("ids"));
                assertArrayEquals(expected, lm.tokenizer().encode(p.get("text").asText()), p.get("text").asText());
                assertEquals(p.get("text").asText(), lm.tokenizer().decode(expected, true));
            }
        }
    }

    @Test
    void aSentencePieceVocabularyWithoutScoresIsAClearError() throws IOException {
        Path gguf = ggufWithout("tokenizer.ggml.model");
        assertThat(assertThrows(FormatException.class, () -> LanguageModel.load(gguf).close()).getMessage())
                .contains("stripped.gguf").contains("tokenizer.ggml.scores is missing");
    }
}
