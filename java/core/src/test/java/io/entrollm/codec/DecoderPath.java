package io.entrollm.codec;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fast decoder's paths a test runs: the 1-symbol or the multi-symbol table, each with the inner loops in
 * Java and, where the C library is loaded ({@link NativeHuffman}), in C. {@code make test} sets {@code
 * entrollm.requireNativeHuffman}: there a missing library fails the tests instead of leaving the C loops untested.
 */
record DecoderPath(boolean multi, boolean nativeLanes) {

    static List<DecoderPath> all() {
        if (Boolean.getBoolean("entrollm.requireNativeHuffman") && !NativeHuffman.available()) fail(NativeHuffman.status());
        List<DecoderPath> paths = new ArrayList<>();
        for (boolean nativeLanes : NativeHuffman.available() ? new boolean[] {false, true} : new boolean[] {false}) {
            for (boolean multi : new boolean[] {false, true}) paths.add(new DecoderPath(multi, nativeLanes));
        }
        return paths;
    }

    void decode(HuffmanStream stream, byte[] out) { HuffmanDecoder.decodeSingleThread(stream, out, multi, nativeLanes); }

    @Override
    public String toString() { return (multi ? "multi-symbol table" : "1-symbol table") + (nativeLanes ? ", C loops" : ", Java loops"); }
}
