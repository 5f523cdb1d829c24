package io.entrollm.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locations of the bundled model and the shared data, for tests of every module. */
public final class TestModels {
    private TestModels() {}

    /** The repository root: the {@code entrollm.repoRoot} property, else the nearest parent holding test-models/. */
    public static Path repoRoot() {
        String prop = System.getProperty("entrollm.repoRoot");
        if (prop != null && Files.isDirectory(Path.of(prop, "test-models"))) return Path.of(prop).toAbsolutePath();
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("test-models"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("cannot find the repository root (no test-models/ above " + Path.of("").toAbsolutePath() + ")");
        return p;
    }

    /** The bundled trained model (bf16 safetensors, 74 tensors). */
    public static Path sotuTiny() { return repoRoot().resolve("test-models/sotu-tiny"); }

    /** {@code ../shared} beside the checkout, which CI provides; may be absent elsewhere. */
    public static Path shared() { return repoRoot().resolve("../shared").normalize(); }
}
