package io.entrollm.cli;

import picocli.CommandLine;

/** Version string from the jar manifest (Maven fills it in). */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"entrollm " + (v == null ? "(development build)" : v) + ", Java " + Runtime.version()};
    }
}
