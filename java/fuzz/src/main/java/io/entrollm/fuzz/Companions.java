package io.entrollm.fuzz;

/** The tiny model's files, read once, that fuzzed files are written beside. */
final class Companions {
    static final byte[] WEIGHTS = TinyModel.file("model.safetensors");
    static final byte[] CONFIG = TinyModel.file("config.json");
    static final byte[] TOKENIZER = TinyModel.file("tokenizer.json");

    private Companions() {}
}
