package io.entrollm.fuzz;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Replays, without the fuzzer, every input that ever broke a reader (java/fuzz/regressions/TARGET/,
 * one file per finding, named after what it broke) and checks every seed is accepted whole: a seed
 * that a reader refuses would start the fuzzer outside the deep checks.
 */
class FuzzRegressionTest {
    @TempDir static Path seeds;

    @TestFactory
    Stream<DynamicTest> everySeedIsAcceptedByItsReader() throws IOException {
        FuzzSeeds.write(seeds);
        List<DynamicTest> tests = new ArrayList<>();
        for (String target : FuzzSeeds.TARGETS.keySet()) {
            try (Stream<Path> files = Files.list(seeds.resolve(target))) {
                for (Path f : files.sorted().toList()) {
                    tests.add(DynamicTest.dynamicTest(target + "/" + f.getFileName(), () -> {
                        byte[] data = Files.readAllBytes(f);
                        assertThat(accepted(target, data)).as("seed accepted").isTrue();
                    }));
                }
            }
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(FuzzSeeds.TARGETS.size());
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> pastFindingsStayFixed() throws IOException {
        Path root = Path.of("regressions");
        List<DynamicTest> tests = new ArrayList<>();
        for (String target : FuzzSeeds.TARGETS.keySet()) {
            Path dir = root.resolve(target);
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    tests.add(DynamicTest.dynamicTest(target + "/" + f.getFileName(), () -> run(target, Files.readAllBytes(f))));
                }
            }
        }
        return tests.stream();
    }

    /** Runs the target as the fuzzer would; whatever escapes fails the test with its stack trace. */
    private static void run(String target, byte[] data) throws Throwable {
        Method m = FuzzSeeds.TARGETS.get(target).getMethod("fuzzerTestOneInput", byte[].class);
        try {
            m.invoke(null, (Object) data);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** Whether the target's reader accepts the input (the contract's return value, not just "no crash"). */
    private static boolean accepted(String target, byte[] data) throws Throwable {
        Method m = FuzzSeeds.TARGETS.get(target).getMethod("accepts", byte[].class);
        try {
            return (Boolean) m.invoke(null, (Object) data);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
