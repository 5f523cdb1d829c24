package io.entrollm.format;

import java.nio.file.Path;

/**
 * A file that does not follow its format: bad magic, truncation, inconsistent offsets, unknown
 * types. The message always names the file and, where one is involved, the tensor, so one line tells
 * the user what to fix.
 */
public class FormatException extends RuntimeException {
    private final Path file;

    public FormatException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public FormatException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    public static FormatException forTensor(Path file, String tensor, String message) {
        return new FormatException(file, "tensor '" + tensor + "': " + message);
    }

    public Path file() { return file; }
}
