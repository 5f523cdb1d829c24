package io.entrollm.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A file truncated under its mapping: the read faults, and the fault is traced to the file by name. */
class MappedFileTest {
    @TempDir Path dir;

    @Test
    void aReadPastATruncationIsTracedToTheFileThatShrank() throws IOException {
        Path p = dir.resolve("weights.bin");
        Files.write(p, new byte[1 << 20]);
        try (MappedFile f = MappedFile.open(p)) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(4096);
            }
            InternalError fault = assertThrows(InternalError.class, () -> f.segment().get(ValueLayout.JAVA_BYTE, 900_000));
            assertThat(MappedFile.isMappedReadFault(new RuntimeException(fault))).isTrue();
            assertThat(MappedFile.describeShrunkFile()).hasValueSatisfying(m -> assertThat(m)
                    .startsWith(p + ": changed while being read").contains(String.valueOf(1 << 20)).contains("4096").doesNotContain("\n"));
        }
        // commands report the fault after try-with-resources has closed the file: it is still named
        assertThat(MappedFile.describeShrunkFile()).hasValueSatisfying(m -> assertThat(m).startsWith(p + ": changed while being read"));
    }

    @Test
    void otherErrorsAreNotMappedReadFaults() {
        assertThat(MappedFile.isMappedReadFault(new InternalError("something else"))).isFalse();
        assertThat(MappedFile.isMappedReadFault(new IllegalStateException())).isFalse();
    }
}
