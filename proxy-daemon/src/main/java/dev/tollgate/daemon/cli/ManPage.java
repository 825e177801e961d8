package dev.tollgate.daemon.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

/**
 * tollgate(8) in troff (man macros). The synopsis, the commands and their options are rendered from the picocli
 * model, so the page cannot fall behind the command line; the rest (files, signals, exit status, examples) is
 * prose kept here next to the code it describes. Rendered at build time by {@link CliDocs}.
 */
final class ManPage {

    private ManPage() {
    }

    static String render(CommandLine root, String version) {
        CommandSpec spec = root.getCommandSpec();
        StringBuilder page = new StringBuilder();
        page.append(".TH TOLLGATE 8 \"\" \"tollgate ").append(escape(version)).append("\" \"System Administration\"\n");
        page.append(".nh\n"); // no hyphenated option names
        page.append(".SH NAME\n").append("tollgate \\- auditing HTTP/HTTPS forward proxy\n");

        page.append(".SH SYNOPSIS\n");
        for (CommandLine sub : visibleSubcommands(spec)) {
            page.append(".PP\n").append(synopsis(sub.getCommandSpec())).append('\n');
        }
        page.append(".PP\n").append(synopsis(spec)).append('\n');

        page.append(DESCRIPTION);

        page.append(".SH COMMANDS\n");
        for (CommandLine sub : visibleSubcommands(spec)) {
            CommandSpec command = sub.getCommandSpec();
            page.append(".SS \"").append(escape(command.qualifiedName())).append("\"\n");
            for (String line : command.usageMessage().description()) {
                page.append(".PP\n").append(escape(line)).append('\n');
            }
            appendOptions(page, command);
        }

        page.append(".SH OPTIONS\n").append(".PP\nWithout a command, ").append(bold("tollgate"))
                .append(" takes only these:\n");
        appendOptions(page, spec);

        page.append(PROSE);
        return page.toString();
    }

    /** The commands in the order the CLI declares them, without hidden ones. */
    static List<CommandLine> visibleSubcommands(CommandSpec spec) {
        List<CommandLine> commands = new ArrayList<>();
        for (CommandLine sub : spec.subcommands().values()) {
            if (!sub.getCommandSpec().usageMessage().hidden() && !commands.contains(sub)) {
                commands.add(sub);
            }
        }
        return commands;
    }

    private static String synopsis(CommandSpec command) {
        StringBuilder line = new StringBuilder(bold(command.qualifiedName()));
        for (OptionSpec option : command.options()) {
            if (option.hidden()) {
                continue;
            }
            StringBuilder names = new StringBuilder();
            for (String name : option.names()) {
                names.append(names.length() == 0 ? "" : "|").append(bold(name));
            }
            line.append(" [").append(names).append(takesValue(option) ? " " + italic(option.paramLabel()) : "")
                    .append(']');
        }
        for (PositionalParamSpec positional : command.positionalParameters()) {
            if (!positional.hidden()) {
                line.append(' ').append(italic(positional.paramLabel()));
            }
        }
        return line.toString();
    }

    private static void appendOptions(StringBuilder page, CommandSpec command) {
        for (OptionSpec option : command.options()) {
            if (option.hidden()) {
                continue;
            }
            page.append(".TP\n");
            List<String> names = new ArrayList<>();
            for (String name : option.names()) {
                names.add(bold(name));
            }
            page.append(String.join(", ", names));
            if (takesValue(option)) {
                page.append(' ').append(italic(option.paramLabel()));
            }
            page.append('\n');
            page.append(escape(String.join(" ", option.description()))).append('\n');
        }
    }

    private static boolean takesValue(OptionSpec option) {
        return option.arity().max() > 0;
    }

    private static String bold(String text) {
        return "\\fB" + escape(text) + "\\fR";
    }

    private static String italic(String text) {
        return "\\fI" + escape(text) + "\\fR";
    }

    /** Text as troff prints it: backslashes and hyphens escaped, no line starting with a control character. */
    static String escape(String text) {
        String escaped = text.replace("\\", "\\e").replace("-", "\\-");
        return escaped.startsWith(".") || escaped.startsWith("'") ? "\\&" + escaped : escaped;
    }

    private static final String DESCRIPTION = """
            .SH DESCRIPTION
            .PP
            \\fBtollgate\\fR is a forward proxy for HTTP and HTTPS. Clients set it as their proxy; it forwards plain \
            HTTP requests, tunnels HTTPS through CONNECT, and writes one row per request, tunnel and refusal into \
            an access log (an embedded H2 database) that auditors query through the admin API or \\fBtollgate sql\\fR.
            .PP
            The configuration is one JSON file (comments and trailing commas allowed); every key is optional. \
            \\fBtollgate check\\fR validates a file the way \\fBtollgate run\\fR reads it and prints the effective \
            configuration, so a change can be checked before the service is restarted.
            """;

    private static final String PROSE = """
            .SH FILES
            .TP
            .I /etc/tollgate/tollgate.json
            The configuration the service runs with (\\fB\\-\\-config\\fR). Every key, its default and its limits \
            are described in the file itself.
            .TP
            .I /etc/tollgate/logback.xml
            Logging: one line per event on standard output, which systemd keeps in the journal. The file says how \
            to log to a file in \\fI/var/log/tollgate/\\fR instead.
            .TP
            .IR /etc/default/tollgate " (Debian), " /etc/sysconfig/tollgate " (RPM)"
            \\fBJAVA_OPTS\\fR and \\fBJAVA_HOME\\fR for the service.
            .TP
            .I /var/lib/tollgate/
            The state directory (\\fBstateDir\\fR): the access-log database, \\fIadmin.token\\fR (0600), \
            \\fIauditor.token\\fR (0640) and \\fIsql.password\\fR, written on the first start; \\fIca/\\fR, the TLS \
            interception CA (\\fIca.pem\\fR, \\fIca.key\\fR 0600), made on first use. The daemon refuses to start \
            in a state directory that its group or other users may write.
            .TP
            .I /usr/share/tollgate/lib/
            The jars.
            .TP
            .I /usr/share/doc/tollgate/README.md
            The full documentation of the configuration keys and the admin API.
            .SH ENVIRONMENT
            .TP
            .B JAVA_HOME
            The Java runtime to use (\\fI$JAVA_HOME/bin/java\\fR); without it, \\fBjava\\fR from \\fBPATH\\fR.
            .TP
            .B JAVA_OPTS
            JVM options, split on blanks, e.g. \\fB\\-Xmx512m\\fR.
            .TP
            .B TOLLGATE_HOME
            The directory holding \\fIlib/\\fR, instead of looking beside the launcher.
            .TP
            .BR INVOCATION_ID ", " JOURNAL_STREAM
            Set by systemd. With either set and standard output not a terminal, each log line starts with its \
            syslog priority (\\fB<6>\\fR for INFO, \\fB<4>\\fR WARN, \\fB<3>\\fR ERROR) instead of the time: \
            journald stamps every line itself and stores the priority as the entry's level \
            (\\fBjournalctl \\-u tollgate \\-p warning\\fR).
            .SH SIGNALS
            .TP
            .BR SIGTERM ", " SIGINT
            Stop gracefully: stop accepting at once, let open requests and tunnels finish for up to \
            \\fBdrainTimeoutMs\\fR, close what is left, write every remaining access record, close the database and \
            exit 0. This is what \\fBsystemctl stop\\fR sends.
            .TP
            .B SIGHUP
            Reload the configuration file: it is read and validated whole, and a bad one changes nothing (the \
            reason is logged and recorded in the admin\\-event trail). A good one is applied to the listeners \
            declared in it: new ones start, removed ones stop accepting at once and go after their drain, changed \
            ones are restarted (the old connector drains while the new one serves); listeners made through the \
            admin API are left alone. Changes outside the listeners (node name, state directory, drain timeout, \
            admin, store) apply at the next start and are logged as needing a restart. This is what \
            \\fBsystemctl reload tollgate\\fR sends; \\fBPOST /api/v1/reload\\fR does the same and answers with \
            what changed. A SIGHUP that arrives while the daemon is starting is carried out once it has started.
            .SH "EXIT STATUS"
            .TP
            .B 0
            Done: a command finished, or the daemon stopped cleanly after SIGTERM or SIGINT.
            .TP
            .B 1
            The daemon could not start or run (e.g. a port in use, the state directory not writable), or \
            \\fBtollgate sql\\fR could not reach the daemon or its statement failed, or \\fBtollgate verify\\fR \
            found the access log not intact (its first problem is printed on standard output, then the count) or \
            could not check it. One line says why.
            .TP
            .B 2
            A bad command line or configuration: one line on standard error names the file, the key, the value and \
            the limit. The service is not restarted after it.
            .SH EXAMPLES
            .PP
            Check an edited configuration before applying it:
            .PP
            .RS
            .nf
            tollgate check \\-\\-config /etc/tollgate/tollgate.json && systemctl restart tollgate
            .fi
            .RE
            .PP
            Run in the foreground on the embedded defaults (proxy on 127.0.0.1:3128, admin API on 127.0.0.1:9090, \
            state in \\fI./tollgate\\-data\\fR):
            .PP
            .RS
            .nf
            tollgate run
            .fi
            .RE
            .PP
            Print the TLS interception CA's certificate, to install on clients (see docs/interception.md):
            .PP
            .RS
            .nf
            tollgate ca export \\-\\-config /etc/tollgate/tollgate.json > tollgate\\-ca.pem
            .fi
            .RE
            .PP
            Send a request through it:
            .PP
            .RS
            .nf
            curl \\-x http://127.0.0.1:3128 https://example.com/
            .fi
            .RE
            .PP
            Count the access-log rows as a member of group \\fBtollgate\\fR:
            .PP
            .RS
            .nf
            tollgate sql \\-\\-config /etc/tollgate/tollgate.json \\-c "SELECT COUNT(*) FROM access_log"
            .fi
            .RE
            .PP
            Check that no access-log row was altered, deleted, inserted or reordered (exit 0 when intact):
            .PP
            .RS
            .nf
            tollgate verify \\-\\-config /etc/tollgate/tollgate.json
            .fi
            .RE
            .PP
            Write last week's report (the seven whole days before today) as one HTML page:
            .PP
            .RS
            .nf
            tollgate report \\-\\-config /etc/tollgate/tollgate.json \\e
                \\-\\-since 7d \\-\\-until today \\-\\-format html \\-o week.html
            .fi
            .RE
            .PP
            Follow the service's log:
            .PP
            .RS
            .nf
            journalctl \\-u tollgate \\-f
            .fi
            .RE
            .SH SEE ALSO
            .BR systemctl (1),
            .BR journalctl (1)
            """;
}
