package io.entrollm.fuzz;

import io.entrollm.fuzz.ReaderContract.Companion;

/** Fuzz target: a Hugging Face tokenizer.json beside valid weights and config, through every step of {@link ModelWalk}. */
public final class TokenizerJsonFuzz {
    private TokenizerJsonFuzz() {}

    public static void fuzzerTestOneInput(byte[] data) { accepts(data); }

    /** Runs the input through the readers: true if accepted, false if refused as the contract allows. */
    public static boolean accepts(byte[] data) {
        return ReaderContract.check("tokenizer.json", data, f -> ModelWalk.walk(f.getParent()),
                new Companion("model.safetensors", Companions.WEIGHTS), new Companion("config.json", Companions.CONFIG));
    }
}
