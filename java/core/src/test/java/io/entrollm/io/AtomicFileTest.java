package io.entrollm.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AtomicFileTest {
    @TempDir Path tmp;

    @Test
    void aFailedWriteLeavesNothingBehind() throws IOException {
        Path target = tmp.resolve("out.bin");
        assertThrows(IllegalStateException.class, () -> {
            try (AtomicFile f = AtomicFile.create(target)) {
                f.channel().write(ByteBuffer.wrap(new byte[1000]));
                throw new IllegalStateException("interrupted");
            }
        });
        assertFalse(Files.exists(target));
        try (var s = Files.list(tmp)) {
            assertEquals(0, s.count(), "no temporary file left");
        }
    }

    @Test
    void aFailedWriteKeepsThePreviousFile() throws IOException {
        Path target = tmp.resolve("out.bin");
        Files.writeString(target, "old");
        assertThrows(IllegalStateException.class, () -> {
            try (AtomicFile f = AtomicFile.create(target)) {
                f.channel().write(ByteBuffer.wrap("new".getBytes()));
                throw new IllegalStateException("interrupted");
            }
        });
        assertEquals("old", Files.readString(target));
        try (AtomicFile f = AtomicFile.create(target)) {
            f.channel().write(ByteBuffer.wrap("new".getBytes()));
            f.commit();
        }
        assertEquals("new", Files.readString(target));
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }
}
