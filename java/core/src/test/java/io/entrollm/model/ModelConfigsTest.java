package io.entrollm.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.format.FormatException;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path tmp;

    @Test
    void parsesTheBundledConfig() throws IOException {
        ModelConfig c = ModelConfigs.fromConfigJson(TestModels.sotuTiny().resolve("config.json"));
        assertEquals(new ModelConfig("LlamaForCausalLM", "llama", 256, 8, 8, 4, 32, 768, 4096, 1e-5, 10000.0, null, 1024,
                true, false, false, 0, List.of(1)), c);
        assertEquals(2, c.kvGroupSize());
    }

    @Test
    void legacyRopeThetaAndLlama3Scaling() throws IOException {
        ModelConfig c = ModelConfigs.fromConfigJson(JSON.readTree("""
                {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":4096,"num_hidden_layers":32,
                 "num_attention_heads":32,"num_key_value_heads":8,"intermediate_size":14336,"vocab_size":128256,
                 "rms_norm_eps":1e-5,"rope_theta":500000.0,"max_position_embeddings":131072,
                 "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
                                 "original_max_position_embeddings":8192,"rope_type":"llama3"},
                 "bos_token_id":128000,"eos_token_id":[128001,128008,128009]}"""));
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(128, c.headDim());
        assertEquals(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
        assertFalse(c.tieWordEmbeddings());
    }

    @Test
    void qwen2HasQkvBiasByDefault() throws IOException {
        ModelConfig c = ModelConfigs.fromConfigJson(JSON.readTree("""
                {"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","hidden_size":896,"num_hidden_layers":24,
                 "num_attention_heads":14,"num_key_value_heads":2,"intermediate_size":4864,"vocab_size":151936,
                 "rope_theta":1000000.0,"rope_scaling":null,"tie_word_embeddings":true}"""));
        assertTrue(c.attentionBias());
        assertNull(c.ropeScaling());
        assertEquals(64, c.headDim());
    }

    @Test
    void invalidConfigsNameTheFile() throws IOException {
        Path p = tmp.resolve("config.json");
        Files.writeString(p, "{\"hidden_size\": 64, \"num_attention_heads\": 3, \"num_key_value_heads\": 2,"
                + "\"num_hidden_layers\": 1, \"intermediate_size\": 8, \"vocab_size\": 10}");
        assertThat(assertThrows(FormatException.class, () -> ModelConfigs.fromConfigJson(p)).getMessage())
                .startsWith(p.toString()).contains("num_key_value_heads (2) must divide num_attention_heads (3)");
        Files.writeString(p, "{\"hidden_size\": 64}");
        assertThat(assertThrows(FormatException.class, () -> ModelConfigs.fromConfigJson(p)).getMessage())
                .contains("num_attention_heads");
        Files.writeString(p, "{oops");
        assertThat(assertThrows(FormatException.class, () -> ModelConfigs.fromConfigJson(p)).getMessage()).contains("not valid JSON");
    }
}
