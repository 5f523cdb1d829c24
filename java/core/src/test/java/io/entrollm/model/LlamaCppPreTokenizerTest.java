package io.entrollm.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.entrollm.tokenizer.GgufTokenizers;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** tokenizer.json pre-tokenizers and the names llama.cpp knows them by (it refuses a GGUF whose name it does not know). */
class LlamaCppPreTokenizerTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void gpt2AndLlama3AreNamedOthersAreNot() throws Exception {
        JsonNode gpt2 = JSON.readTree("{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true}");
        assertEquals(Optional.of("gpt-2"), GgufConverter.llamaCppPreTokenizer(gpt2));

        ObjectNode llama3 = JSON.createObjectNode().put("type", "Sequence");
        llama3.putArray("pretokenizers").addObject().put("type", "Split").putObject("pattern").put("Regex", GgufTokenizers.LLAMA3_PATTERN);
        ((com.fasterxml.jackson.databind.node.ArrayNode) llama3.get("pretokenizers")).addObject().put("type", "ByteLevel").put("use_regex", false);
        assertEquals(Optional.of("llama-bpe"), GgufConverter.llamaCppPreTokenizer(llama3));

        ObjectNode other = llama3.deepCopy();
        ((ObjectNode) other.get("pretokenizers").get(0).get("pattern")).put("Regex", "\\s+");
        assertEquals(Optional.empty(), GgufConverter.llamaCppPreTokenizer(other));
        assertEquals(Optional.empty(), GgufConverter.llamaCppPreTokenizer(JSON.readTree("{\"type\":\"Metaspace\"}")));
    }
}
