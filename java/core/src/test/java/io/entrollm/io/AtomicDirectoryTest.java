package io.entrollm.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AtomicDirectoryTest {
    @TempDir Path tmp;

    static long entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void appearsWholeOnCommit() throws IOException {
        Path target = tmp.resolve("model");
        try (AtomicDirectory d = AtomicDirectory.create(target)) {
            Files.writeString(d.path().resolve("a.txt"), "a");
            Files.writeString(d.path().resolve("b.txt"), "b");
            assertThat(target).doesNotExist();
            d.commit();
        }
        assertEquals("b", Files.readString(target.resolve("b.txt")));
        assertEquals(1, entries(tmp), "no partial directory left beside it");
    }

    @Test
    void leavesNothingWithoutACommit() throws IOException {
        Path target = tmp.resolve("model");
        assertThrows(IllegalStateException.class, () -> {
            try (AtomicDirectory d = AtomicDirectory.create(target)) {
                Files.writeString(d.path().resolve("shard-1"), "half");
                throw new IllegalStateException("generation failed");
            }
        });
        assertEquals(0, entries(tmp));
    }

    @Test
    void replacesAnEmptyDirectoryAndRefusesAFullOne() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        try (AtomicDirectory d = AtomicDirectory.create(empty)) {
            Files.writeString(d.path().resolve("x"), "x");
            d.commit();
        }
        assertEquals("x", Files.readString(empty.resolve("x")));
        assertThat(assertThrows(FileAlreadyExistsException.class, () -> AtomicDirectory.create(empty)).getMessage()).contains("empty");
        Path file = Files.writeString(tmp.resolve("file"), "f");
        assertThrows(FileAlreadyExistsException.class, () -> AtomicDirectory.create(file));
        assertEquals(2, entries(tmp));
    }
}
