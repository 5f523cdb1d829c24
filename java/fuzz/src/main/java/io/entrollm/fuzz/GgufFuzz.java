package io.entrollm.fuzz;

/** Fuzz target: a GGUF file (metadata, tokenizer, tensors), through every step of {@link ModelWalk}. */
public final class GgufFuzz {
    private GgufFuzz() {}

    public static void fuzzerTestOneInput(byte[] data) { accepts(data); }

    /** Runs the input through the readers: true if accepted, false if refused as the contract allows. */
    public static boolean accepts(byte[] data) {
        return ReaderContract.check("model.gguf", data, ModelWalk::walk);
    }
}
