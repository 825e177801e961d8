package dev.tollgate.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.Test;

import dev.tollgate.daemon.cli.Main;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/**
 * The man page and the bash completion as the build installs them (in the distribution folder, the same files the
 * packages carry: PackageContentsIT), held against the command line's own definition, so a command or option added
 * to the CLI without reaching them fails here.
 */
class CliDocsIT {

    private static final Path MAN_PAGE = Packages.DIST.resolve("share/man/man8/tollgate.8.gz");
    private static final Path COMPLETION = Packages.DIST.resolve("share/bash-completion/completions/tollgate");

    private final CommandLine cli = new CommandLine(new Main());

    @Test
    void manRendersThePageWithoutWarnings() {
        assumeTrue(Command.available("man"), "SKIPPED: man is not installed (.ci/run installs man-db)");

        // what lintian's manpage check runs
        Command man = Command.run(Map.of("MANWIDTH", "80"),
                List.of("man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", MAN_PAGE.toString()));

        man.assertOk();
        assertEquals("", man.stderr(), man::toString);
        assertTrue(man.stdout().length() > 1000, man::toString);
    }

    @Test
    void manPageHasASectionForEveryCommandWithAllItsOptions() throws IOException {
        Map<String, String> sections = commandSections(manPageText());

        Map<String, CommandSpec> commands = subcommands();
        assertEquals(commands.keySet(), sections.keySet(), "the man page's COMMANDS against the CLI's");
        commands.forEach((name, spec) -> {
            String section = sections.get(name);
            assertTrue(section.contains(spec.usageMessage().description()[0]), () -> name + ": no description");
            for (String option : optionNames(spec)) {
                assertTrue(section.contains(option), () -> "tollgate " + name + ": " + option + " not in\n" + section);
            }
        });
    }

    @Test
    void manPageNamesTheFilesSignalsExitCodesAndExamples() throws IOException {
        String page = manPageText();

        for (String heading : List.of("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "FILES", "ENVIRONMENT",
                "SIGNALS", "\"EXIT STATUS\"", "EXAMPLES")) {
            assertTrue(page.contains("\n.SH " + heading + "\n"), () -> "no section " + heading);
        }
        for (String file : List.of("/etc/tollgate/tollgate.json", "/etc/tollgate/logback.xml", "/var/lib/tollgate/",
                "/etc/default/tollgate", "/etc/sysconfig/tollgate")) {
            assertTrue(page.contains(file), () -> "FILES lacks " + file);
        }
        String signals = section(page, "SIGNALS");
        for (String signal : List.of("SIGTERM", "SIGINT", "SIGHUP")) {
            assertTrue(signals.contains(signal), () -> "SIGNALS lacks " + signal);
        }
        assertTrue(signals.contains("Reload the configuration"), "SIGHUP reloads the configuration: " + signals);
        String exitStatus = section(page, "\"EXIT STATUS\"");
        for (String code : List.of("0", "1", "2")) {
            assertTrue(exitStatus.contains("\n.B " + code + "\n"), () -> "EXIT STATUS lacks " + code);
        }
        String examples = section(page, "EXAMPLES");
        for (String command : subcommands().keySet()) {
            if (!command.equals("version")) {
                assertTrue(examples.contains("tollgate " + command), () -> "no example of tollgate " + command);
            }
        }
    }

    @Test
    void completionOffersEveryCommand() {
        requireBash();

        assertEquals(new TreeSet<>(subcommands().keySet()), complete("tollgate", ""));
    }

    @Test
    void completionOffersEachCommandsOptions() {
        requireBash();

        subcommands().forEach((name, spec) -> assertEquals(new TreeSet<>(optionNames(spec)),
                complete("tollgate", name, "-"), () -> "tollgate " + name + " -<Tab>"));
    }

    /** What bash-completion would offer for the words typed (the last one being completed). */
    private Set<String> complete(String... words) {
        StringBuilder typed = new StringBuilder();
        for (String word : words) {
            typed.append(" '").append(word).append('\'');
        }
        String script = "source \"$1\"\n"
                + "COMP_WORDS=(" + typed + ")\n"
                + "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
                + "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
                + "_complete_tollgate tollgate \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        // compopt complains outside a real completion (stderr); what matters is COMPREPLY
        Command bash = Command.run("bash", "-c", script, "bash", COMPLETION.toString()).assertOk();
        Set<String> offered = new TreeSet<>();
        bash.stdout().lines().map(String::trim).filter(line -> !line.isEmpty()).forEach(offered::add);
        return offered;
    }

    private Map<String, CommandSpec> subcommands() {
        Map<String, CommandSpec> commands = new LinkedHashMap<>();
        cli.getSubcommands().forEach((name, sub) -> {
            if (!sub.getCommandSpec().usageMessage().hidden()) {
                commands.put(name, sub.getCommandSpec());
            }
        });
        assertTrue(commands.containsKey("run") && commands.containsKey("check"), commands::toString);
        return commands;
    }

    private static List<String> optionNames(CommandSpec spec) {
        List<String> names = new ArrayList<>();
        for (OptionSpec option : spec.options()) {
            if (!option.hidden()) {
                names.addAll(List.of(option.names()));
            }
        }
        return names;
    }

    /** The page's troff source with font changes removed and {@code \-} as a plain hyphen. */
    private static String manPageText() throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(MAN_PAGE))) {
            String troff = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return troff.replaceAll("\\\\f[BIRP]", "").replace("\\-", "-");
        }
    }

    /** The COMMANDS section's subsections, keyed by command: {@code .SS "tollgate run"} becomes "run". */
    private static Map<String, String> commandSections(String page) {
        Map<String, String> sections = new LinkedHashMap<>();
        String[] parts = section(page, "COMMANDS").split("\n\\.SS \"tollgate ");
        for (int i = 1; i < parts.length; i++) {
            int quote = parts[i].indexOf('"');
            sections.put(parts[i].substring(0, quote), parts[i].substring(quote + 1));
        }
        return sections;
    }

    private static String section(String page, String heading) {
        int start = page.indexOf("\n.SH " + heading + "\n");
        assertTrue(start >= 0, () -> "no section " + heading);
        int end = page.indexOf("\n.SH ", start + 1);
        return page.substring(start, end < 0 ? page.length() : end);
    }

    private static void requireBash() {
        assumeTrue(Command.available("bash"), "SKIPPED: bash is not installed");
    }
}
