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
}
