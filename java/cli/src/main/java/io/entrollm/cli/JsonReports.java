package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.io.AtomicFile;

import java.io.IOException;
import java.nio.file.Path;

/** Writes JSON reports atomically, pretty-printed. */
final class JsonReports {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonReports() {}

    static void write(Path file, JsonNode report) throws IOException {
        AtomicFile.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
    }

    /** Writes the report into {@code out} and syncs it, leaving the commit to the caller. */
    static void writeTo(AtomicFile out, JsonNode report) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
        while (b.hasRemaining()) out.channel().write(b);
        out.channel().force(true);
    }
}
