package io.entrollm.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Names of our temporary outputs carry the writer's process id ({@code .NAME.pPID-RANDOM.partial}), so
 * the next writer of NAME can tell the leftovers of a killed process (kill -9, power loss: no cleanup
 * code ran) from the temporary file of a writer that is still running, and delete only the former.
 */
final class StaleTemps {
    private static final long PID = ProcessHandle.current().pid();

    private StaleTemps() {}

    /** The prefix for {@code Files.createTemp*}: {@code .NAME.pPID-}. */
    static String prefix(Path target) { return "." + target.getFileName() + ".p" + PID + "-"; }

    /** Deletes temporaries for {@code target} (suffix {@code suffix}) whose writing process no longer exists. */
    static void deleteAbandoned(Path target, String suffix) {
        Path dir = target.toAbsolutePath().getParent();
        Pattern ours = Pattern.compile(Pattern.quote("." + target.getFileName() + ".p") + "(\\d{1,18})-\\d+" + Pattern.quote(suffix));
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Matcher m = ours.matcher(p.getFileName().toString());
                if (!m.matches()) continue;
                long pid = Long.parseLong(m.group(1));
                if (pid == PID || ProcessHandle.of(pid).isPresent()) continue; // a live writer's
                if (Files.isDirectory(p)) AtomicDirectory.deleteRecursively(p);
                else Files.deleteIfExists(p);
            }
        } catch (IOException | SecurityException e) {
            // cleaning up is a courtesy: a folder we cannot list or a file we cannot delete is not the user's error
        }
    }
}
