package io.entrollm.fuzz;

import io.entrollm.infer.LanguageModel;
import io.entrollm.infer.LlamaLayout;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.tensor.Tensor;
import io.entrollm.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Everything the CLI does with a model file before and during a run, in the order it does it: open
 * it (header, metadata, tensor table), dequantize every tensor from its stored form, resolve the
 * Llama layout against the config, build the tokenizer, encode and decode text, and run one forward
 * pass from the stored form. A fuzzed file that passes the readers' checks must survive all of it.
 */
final class ModelWalk {
    /** Text with multi-byte UTF-8, digits, spaces and newlines: every branch of the pre-tokenizers. */
    static final String SAMPLE = "Fellow-Citizens 1789 — café “quoted” 日本語\n\n  end's";

    private ModelWalk() {}

    static void walk(Path path) throws IOException {
        boolean hasConfig;
        try (ModelSource source = ModelSources.openHuggingFace(path)) {
            for (Tensor t : source.tensors()) source.stored(t.name()).dequantize();
            hasConfig = source.config().isPresent();
            if (hasConfig) LlamaLayout.of(source);
        }
        if (!hasConfig) return;
        try (LanguageModel lm = LanguageModel.load(path)) {
            Tokenizer tok = lm.tokenizer();
            int[] ids = tok.encode(SAMPLE);
            tok.decode(ids, false);
            int vocab = lm.config().vocabSize();
            try (LanguageModel.Session s = lm.openCpuSession(1)) {
                s.logLikelihoods(new int[] {0, Math.min(1, vocab - 1)});
            }
        }
    }
}
