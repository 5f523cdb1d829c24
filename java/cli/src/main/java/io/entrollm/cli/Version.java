package io.entrollm.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Version string from version.properties, which Maven fills in from the project version. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"entrollm " + projectVersion() + ", Java " + Runtime.version()};
    }

    static String projectVersion() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) p.load(in);
            String v = p.getProperty("version", "");
            return v.isEmpty() || v.startsWith("${") ? "(version unknown: built without Maven)" : v;
        } catch (IOException e) {
            return "(version unknown: " + e.getMessage() + ")";
        }
    }
}
