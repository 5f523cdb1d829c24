package io.entrollm.container;

import io.entrollm.format.gguf.GgufFile;
import io.entrollm.model.GgufConverter;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.tensor.DType;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** tokenizer_config.json and its kin travel with the weights: into a .entro, back out of it, into GGUF metadata. */
class CompanionFilesTest {
    @TempDir Path tmp;
    private static final CompressOptions U8 = CompressOptions.defaults(8, QuantScheme.MIXED, Granularity.TENSOR);

    @Test
    void aCompressedModelCarriesItsCompanionFilesAndDecompressWritesThemBack() throws IOException {
        Path entro = tmp.resolve("m.entro"), back = tmp.resolve("back");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(s, entro, U8, null);
        }
        try (EntroModel m = EntroModel.open(entro)) {
            assertEquals(2, m.file().version());
            for (String name : new String[] {"tokenizer_config.json", "generation_config.json"}) {
                assertEquals(Files.readString(TestModels.sotuTiny().resolve(name)), m.companionJson(name).orElseThrow(), name);
            }
            assertThat(m.companionJson("special_tokens_map.json")).isEmpty();
            Decompressor.writeHuggingFace(m, back, DType.BF16);
        }
        for (String name : new String[] {"tokenizer_config.json", "generation_config.json"}) {
            assertEquals(-1, Files.mismatch(TestModels.sotuTiny().resolve(name), back.resolve(name)), name);
        }
    }

    /** sotu-tiny through a bf16 GGUF (which carries no companion files), compressed with {@code options}. */
    private Path compressedFromGguf(CompressOptions options) throws IOException {
        Path gguf = tmp.resolve("m.gguf"), entro = tmp.resolve("m.entro");
        try (ModelSource s = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            GgufConverter.convert(s, gguf, GgufConverter.OutType.BF16);
        }
        try (ModelSource s = ModelSources.openHuggingFace(gguf)) {
            EntroCompressor.compress(s, entro, options, null);
        }
        return entro;
    }

    @Test
    void aModelWithoutCompanionFilesStaysAVersionOneFile() throws IOException {
        try (EntroFile f = EntroFile.open(compressedFromGguf(U8))) {
            assertEquals(1, f.version(), "readers of version 1 can still read what needs nothing newer");
        }
    }

    /** f16 scales are version-2 content in no version-2 section: the header says 2 because the directory does. */
    @Test
    void f16ScalesWithoutCompanionFilesMakeAVersionTwoFile() throws IOException {
        try (EntroModel m = EntroModel.open(compressedFromGguf(CompressOptions.defaults(4, QuantScheme.MIXED, Granularity.group(32)).withScaleDtype(DType.F16)))) {
            assertEquals(2, m.file().version());
            assertThat(m.tensorNames()).isNotEmpty();
        }
    }

    @Test
    void theGgufConverterCopiesTheChatTemplate() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("with-template"));
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) Files.copy(TestModels.sotuTiny().resolve(f), dir.resolve(f));
        String template = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}";
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": [{\"name\": \"default\", \"template\": \""
                + template.replace("\"", "\\\"") + "\"}, {\"name\": \"tool_use\", \"template\": \"x\"}]}");
        Path gguf = tmp.resolve("t.gguf");
        try (ModelSource s = ModelSources.openHuggingFace(dir)) {
            GgufConverter.convert(s, gguf, GgufConverter.OutType.BF16);
        }
        try (GgufFile g = GgufFile.open(gguf)) {
            assertEquals(template, g.string("tokenizer.chat_template").orElseThrow());
        }
    }
}
