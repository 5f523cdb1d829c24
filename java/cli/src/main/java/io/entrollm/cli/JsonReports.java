package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.io.AtomicFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** Writes JSON reports atomically, pretty-printed. */
final class JsonReports {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonReports() {}

    static void write(Path file, JsonNode report) throws IOException {
        try (AtomicFile f = AtomicFile.create(file)) {
            f.channel().write(ByteBuffer.wrap(JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(report)));
            f.commit();
        }
    }
}
