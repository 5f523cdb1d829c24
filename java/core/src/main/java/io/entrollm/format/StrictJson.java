package io.entrollm.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Path;

/**
 * JSON from files we did not write (safetensors headers, config.json, tokenizer.json, shard indexes,
 * .entro directories), parsed strictly: one value and nothing after it, no duplicate keys (the last
 * would silently win), valid UTF-8. A parse error is a one-line {@link FormatException} naming the file
 * and the line and column.
 */
public final class StrictJson {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private StrictJson() {}

    /** Parses {@code utf8} (bytes, so invalid UTF-8 is caught) as the content of {@code file}; {@code what} names it in messages. */
    public static JsonNode parse(Path file, byte[] utf8, String what) {
        try {
            return read(utf8, what);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, e.getMessage());
        }
    }

    /** As {@link #parse(Path, byte[], String)} where the caller names the file: errors are IllegalArgumentExceptions. */
    public static JsonNode read(byte[] utf8, String what) {
        try {
            JsonNode n = JSON.readTree(utf8);
            if (n == null || n.isMissingNode()) throw new IllegalArgumentException(what + " is empty");
            return n;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + oneLine(e));
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " could not be read: " + e.getMessage());
        }
    }

    /** As {@link #parse(Path, byte[], String)} for text already decoded. */
    public static JsonNode parse(Path file, String text, String what) {
        return parse(file, text.getBytes(java.nio.charset.StandardCharsets.UTF_8), what);
    }

    private static String oneLine(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage()).replaceAll("\\s+", " ").strip();
        if (m.length() > 200) m = m.substring(0, 200) + "...";
        var loc = e.getLocation();
        return loc == null ? m : m + " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

}
