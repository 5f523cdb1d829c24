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
        super(oneLine(file + ": " + message));
        this.file = file;
    }

    public FormatException(Path file, String message, Throwable cause) {
        super(oneLine(file + ": " + message), cause);
        this.file = file;
    }

    /** Longest message kept: names and values quoted from a hostile file can be any length. */
    static final int MAX_MESSAGE = 600;

    /**
     * The message as one printable line: control characters and line separators (which a hostile file
     * can put in a tensor name or a key) escaped, and cut to {@link #MAX_MESSAGE} characters.
     */
    static String oneLine(String m) {
        StringBuilder b = new StringBuilder(Math.min(m.length(), MAX_MESSAGE + 16));
        for (int i = 0; i < m.length() && b.length() < MAX_MESSAGE; i++) {
            char c = m.charAt(i);
            if (c == '\n') b.append("\\n");
            else if (c == '\r') b.append("\\r");
            else if (c == '\t') b.append("\\t");
            else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || c == '\u0085') b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        if (b.length() >= MAX_MESSAGE && m.length() > MAX_MESSAGE) b.append("...");
        return b.toString();
    }

    public static FormatException forTensor(Path file, String tensor, String message) {
        return new FormatException(file, "tensor '" + tensor + "': " + message);
    }

    public Path file() { return file; }
}
