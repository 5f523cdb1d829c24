package io.entrollm.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** The result of one in-process CLI run. */
record CliRun(int exitCode, String out, String err) {
    static CliRun of(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** Lines of stderr. */
    String[] errLines() { return err.isEmpty() ? new String[0] : err.split("\n"); }
}
