package io.entrollm.cli;

import io.entrollm.testing.GgufBytes;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad input through the command line, as a user meets it: exit 1 and one line on stderr that names
 * the file (a bad argument: exit 2, picocli's message then the usage), nothing written, no stray
 * temporary files.
 */
class HostileInputCommandTest {
    @TempDir Path tmp;

    /** Runs the CLI and checks the promise; returns the one error line. */
    private String fails(int exitCode, String... args) throws IOException {
        long before = entries();
        CliRun r = CliRun.of(args);
        assertThat(r.exitCode()).as("exit code; stderr: " + r.err()).isEqualTo(exitCode);
        assertThat(r.errLines()).as("stderr").isNotEmpty();
        assertThat(r.errLines()[0]).doesNotContain("Exception");
        if (exitCode == 1) {
            assertThat(r.errLines()[0]).startsWith("entrollm " + args[0] + ": error: ");
            assertThat(r.errLines()).as("one line: " + r.err()).hasSize(1);
        }
        assertThat(entries()).as("nothing written").isEqualTo(before);
        return r.errLines()[0];
    }

    private long entries() throws IOException {
        try (Stream<Path> s = Files.walk(tmp)) {
            return s.count();
        }
    }

    @Test
    void deeplyNestedGgufMetadataIsOneLineNamingTheFile() throws IOException {
        GgufBytes b = new GgufBytes().header(3, 0, 1).string("deep").u32(9);
        for (int i = 0; i < 10_000; i++) b.u32(9).u64(1);
        Path f = Files.write(tmp.resolve("deep.gguf"), b.u32(0).u64(0).bytes());
        assertThat(fails(1, "inspect", f.toString())).contains(f.toString()).contains("nested more than");
    }

    @Test
    void aFolderGivenForAnEntroFileIsNamedAsSuch() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("not-an-entro"));
        assertThat(fails(1, "decompress", dir.toString(), "-o", tmp.resolve("out").toString()))
                .contains(dir + ": is a folder, not a file");
    }

    @Test
    void aReportThatCannotBeWrittenStopsCompressionBeforeTheEntroAppears() throws IOException {
        Path notAFolder = Files.writeString(tmp.resolve("plain-file"), "x");
        Path entro = tmp.resolve("out.entro");
        String line = fails(1, "compress", TestModels.sotuTiny().toString(), "-o", entro.toString(), "--json",
                notAFolder.resolve("report.json").toString());
        assertThat(line).contains("report.json");
        assertThat(entro).doesNotExist();
    }

    @Test
    void aContextOfZeroIsAnArgumentError() throws IOException {
        Path text = Files.writeString(tmp.resolve("t.txt"), "Fellow-Citizens of the Senate");
        assertThat(fails(2, "perplexity", TestModels.sotuTiny().toString(), "--text", text.toString(), "--ctx", "0"))
                .contains("--ctx must be at least 2");
    }

    @Test
    void aConfigThatDisagreesWithTheWeightsStopsTheRun() throws IOException {
        Path model = Files.createDirectory(tmp.resolve("model"));
        try (Stream<Path> s = Files.list(TestModels.sotuTiny())) {
            for (Path f : s.toList()) Files.copy(f, model.resolve(f.getFileName()));
        }
        Path config = model.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\"num_hidden_layers\": *\\d+", "\"num_hidden_layers\": 1"));
        assertThat(fails(1, "run", model.toString(), "--prompt", "The", "--max-tokens", "2"))
                .contains(model.toString()).contains("declares 1 layers");
    }
}
