package io.entrollm.fuzz;

import io.entrollm.fuzz.ReaderContract.Companion;

/**
 * Fuzz target: a Hugging Face config.json beside valid weights and tokenizer, through every step of
 * {@link ModelWalk}: the config must agree with the weights or be refused.
 */
public final class ConfigJsonFuzz {
    private ConfigJsonFuzz() {}

    public static void fuzzerTestOneInput(byte[] data) { accepts(data); }

    /** Runs the input through the readers: true if accepted, false if refused as the contract allows. */
    public static boolean accepts(byte[] data) {
        return ReaderContract.check("config.json", data, f -> ModelWalk.walk(f.getParent()),
                new Companion("model.safetensors", Companions.WEIGHTS), new Companion("tokenizer.json", Companions.TOKENIZER));
    }
}
