package io.entrollm.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where this copy of EntroLLM-J lives (bin/entrollm passes it as {@code entrollm.home}), for its bundled files. */
final class Install {
    private Install() {}

    /**
     * {@code path} as given when it exists (or is absolute), else the same path under the installation: a
     * default such as {@code test-models/sotu-tiny} works from any directory, not only the repository root.
     */
    static Path resolve(Path path) {
        if (path.isAbsolute() || Files.exists(path)) return path;
        String home = System.getProperty("entrollm.home");
        if (home == null) return path;
        Path installed = Path.of(home).resolve(path);
        return Files.exists(installed) ? installed : path;
    }
}
