package io.entrollm.cli;

import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's Java example, as written there, compiled against the project and run on the bundled model. */
class ReadmeExampleTest {
    @TempDir Path tmp;

    @Test
    void theJavaApiExampleCompilesAndRuns() throws Exception {
        String readme = Files.readString(TestModels.repoRoot().resolve("README.md"));
        Matcher m = Pattern.compile("## Java API.*?```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertThat(m.find()).as("README has a Java example under 'Java API'").isTrue();
        String example = m.group(1);
        StringBuilder imports = new StringBuilder(), body = new StringBuilder();
        for (String line : example.lines().toList()) (line.startsWith("import ") ? imports : body).append(line).append('\n');
        assertThat(body.toString()).contains("\"sotu-tiny-u8.entro\"");

        Path entro = tmp.resolve("sotu-tiny-u8.entro");
        assertEquals(0, CliRun.of("compress", TestModels.sotuTiny().toString(), "-o", entro.toString(), "--bits", "8").exitCode());
        Path src = Files.createDirectories(tmp.resolve("src")).resolve("ReadmeExample.java");
        Files.writeString(src, imports + "public class ReadmeExample {\n    public static void main(String[] args) throws Exception {\n"
                + body.toString().replace("\"sotu-tiny-u8.entro\"", "args[0]") + "    }\n}\n");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        int rc = javac.run(null, diagnostics, diagnostics, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "the README example compiles:\n" + diagnostics);

        PrintStream out = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new java.net.URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
            loader.loadClass("ReadmeExample").getMethod("main", String[].class).invoke(null, (Object) new String[] {entro.toString()});
        } finally {
            System.setOut(out);
        }
        assertThat(printed.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("tokens/s").doesNotContain("\uFFFD");
    }
}
