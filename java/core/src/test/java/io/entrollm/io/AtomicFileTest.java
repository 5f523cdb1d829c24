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

    /** A pid no process has: one that just exited (reuse within the test is vanishingly unlikely). */
    static long deadPid() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void leftoversOfAKilledWriterAreRemovedAndThoseOfALiveOneKept() throws Exception {
        Path out = tmp.resolve("model.entro");
        Path dead = Files.writeString(tmp.resolve(".model.entro.p" + deadPid() + "-123.partial"), "half");
        Path live = Files.writeString(tmp.resolve(".model.entro.p1-456.partial"), "being written by pid 1");
        Path other = Files.writeString(tmp.resolve(".other.entro.p" + deadPid() + "-7.partial"), "another target's");
        AtomicFile.write(out, new byte[] {1, 2, 3});
        assertFalse(Files.exists(dead), "a killed writer's temporary file is cleaned up");
        assertEquals(true, Files.exists(live), "a live writer's is left alone");
        assertEquals(true, Files.exists(other), "only the target's own temporaries are touched");
        assertEquals(3, Files.size(out));
    }

    @Test
    void aFullDiskIsReportedWithTheTargetsName() throws IOException {
        Path devFull = Path.of("/dev/full");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(devFull), "needs Linux's /dev/full");
        try (var ch = java.nio.channels.FileChannel.open(devFull, java.nio.file.StandardOpenOption.WRITE)) {
            var named = new TargetNamingChannel(ch, tmp.resolve("out.entro"));
            IOException e = assertThrows(IOException.class, () -> {
                named.write(ByteBuffer.wrap(new byte[1 << 16]));
                named.force(true);
            });
            org.assertj.core.api.Assertions.assertThat(e.getMessage()).startsWith(tmp.resolve("out.entro") + ": ").contains("No space left on device");
        }
    }

    @Test
    void anUnwritableFolderNamesTheTargetNotTheTemporaryFile() throws IOException {
        Path notAFolder = Files.writeString(tmp.resolve("file"), "x");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(notAFolder.resolve("out.json"), new byte[1]));
        org.assertj.core.api.Assertions.assertThat(e.getMessage()).contains(notAFolder.resolve("out.json").toString()).doesNotContain(".partial");
    }
}
