package dev.tollgate.daemon.cli;

import picocli.AutoComplete;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the documents made from the command line's definition: the man page {@code tollgate.8} (troff) and
 * the bash completion script {@code tollgate.bash}. Run by the packaging build (antrun, in prepare-package), so
 * the packages always carry the pages of the CLI they ship.
 */
public final class CliDocs {

    static final String MAN_PAGE = "tollgate.8";
    static final String BASH_COMPLETION = "tollgate.bash";

    private CliDocs() {
    }

    /** {@code CliDocs OUTPUT_DIR}: writes both files into the directory, creating it when missing. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: CliDocs OUTPUT_DIR");
            System.exit(Main.EXIT_USAGE);
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        Files.writeString(dir.resolve(MAN_PAGE), ManPage.render(Main.newCommandLine(), Main.Version.number()));
        Files.writeString(dir.resolve(BASH_COMPLETION), completionScript());
    }

    /**
     * picocli's bash completion without its {@code #!/usr/bin/env bash} line: bash-completion sources the script,
     * never runs it (lintian: bash-completion-with-hashbang).
     */
    static String completionScript() {
        String script = AutoComplete.bash("tollgate", Main.newCommandLine());
        return script.startsWith("#!") ? script.substring(script.indexOf('\n') + 1) : script;
    }
}
