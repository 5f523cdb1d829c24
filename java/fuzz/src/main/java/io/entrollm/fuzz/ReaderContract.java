package io.entrollm.fuzz;

import io.entrollm.format.FormatException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * What every reader of an untrusted file promises, checked for one input: it either accepts the file
 * or throws a {@link FormatException} whose message is one line naming the file. Anything else that
 * escapes (another exception, an {@link Error} such as OutOfMemoryError or StackOverflowError) is left
 * to propagate, which is what the fuzzer reports as a finding and the regression test as a failure.
 */
public final class ReaderContract {
    /** A reader under test, given the path its input was written to. */
    public interface Reader {
        void read(Path file) throws IOException;
    }

    private ReaderContract() {}

    /**
     * Writes {@code data} as {@code fileName} into a fresh directory (beside {@code companions}, files
     * written first, e.g. the weights next to a fuzzed config.json) and runs {@code reader} on it.
     *
     * @return true if the reader accepted the input, false if it refused it as the contract allows
     */
    public static boolean check(String fileName, byte[] data, Reader reader, Companion... companions) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("entrollm-fuzz-");
            for (Companion c : companions) Files.write(dir.resolve(c.name()), c.bytes());
            Path file = dir.resolve(fileName);
            Files.write(file, data);
            try {
                reader.read(file);
                return true;
            } catch (FormatException e) {
                String m = e.getMessage();
                if (m == null || m.contains("\n") || !m.contains(dir.toString())) {
                    throw new AssertionError("a FormatException must be one line naming the file, got: " + m, e);
                }
                return false;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the fuzz harness itself failed", e);
        } finally {
            if (dir != null) deleteTree(dir);
        }
    }

    /** A file written beside the fuzzed one. */
    public record Companion(String name, byte[] bytes) {}

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is no finding
        }
    }
}
