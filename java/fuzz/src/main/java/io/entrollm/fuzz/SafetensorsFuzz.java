package io.entrollm.fuzz;

import io.entrollm.fuzz.ReaderContract.Companion;

/**
 * Fuzz target: a model.safetensors beside a valid config and tokenizer, through every step of
 * {@link ModelWalk}: the weights must agree with the config (names, shapes, dtypes) or be refused.
 */
public final class SafetensorsFuzz {
    private SafetensorsFuzz() {}

    public static void fuzzerTestOneInput(byte[] data) { accepts(data); }

    /** Runs the input through the readers: true if accepted, false if refused as the contract allows. */
    public static boolean accepts(byte[] data) {
        return ReaderContract.check("model.safetensors", data, f -> ModelWalk.walk(f.getParent()),
                new Companion("config.json", Companions.CONFIG), new Companion("tokenizer.json", Companions.TOKENIZER));
    }
}
