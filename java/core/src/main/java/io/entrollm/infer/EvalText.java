package io.entrollm.infer;

import io.entrollm.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Evaluation token streams, by the protocol of reference.json: a file is one document, its text
 * stripped of surrounding whitespace and cut to its first {@code maxChars} characters (code points),
 * encoded with the tokenizer (BOS from the post-processor) followed by EOS; a directory is every
 * {@code *.txt} in sorted name order, each a document, concatenated.
 */
public final class EvalText {
    private EvalText() {}

    public static int[] tokens(Path path, Tokenizer tokenizer, int eos, int maxChars) throws IOException {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.list(path)) {
                s.filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().forEach(files::add);
            }
            if (files.isEmpty()) throw new IllegalArgumentException(path + ": no *.txt files");
        } else {
            files.add(path);
        }
        List<int[]> docs = new ArrayList<>();
        int total = 0;
        for (Path f : files) {
            String text = Files.readString(f).strip();
            if (maxChars > 0 && text.codePointCount(0, text.length()) > maxChars) text = text.substring(0, text.offsetByCodePoints(0, maxChars));
            int[] ids = tokenizer.encode(text);
            int[] doc = java.util.Arrays.copyOf(ids, ids.length + 1);
            doc[ids.length] = eos;
            docs.add(doc);
            total += doc.length;
        }
        int[] out = new int[total];
        int p = 0;
        for (int[] d : docs) {
            System.arraycopy(d, 0, out, p, d.length);
            p += d.length;
        }
        return out;
    }
}
