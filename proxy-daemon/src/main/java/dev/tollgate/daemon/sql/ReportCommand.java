package dev.tollgate.daemon.sql;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.daemon.report.Report;
import dev.tollgate.daemon.report.ReportFormat;
import dev.tollgate.store.AccessSummary;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * {@code tollgate report}: a summary of a period of the access log (totals, daily volumes, top sites, users and
 * clients, refusals by rule) as text, CSV or one self-contained HTML page: what a cron job mails to the security team
 * every Monday. It reads what {@code tollgate verify} reads, the same way (the running daemon's H2 log as the
 * auditor, PostgreSQL read-only, or a stopped daemon's H2 file as its owner), through {@link AccessSummary}, the query
 * layer of the console and the admin API's summary endpoints: the three show the same numbers.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Summarise a period of the access log: totals, daily volumes, top sites, users and clients by"
                + " requests and bytes, refusals by rule, authentication failures.",
                "Whole days (UTC). Reads the running daemon's log as the auditor, like tollgate sql; with the daemon"
                        + " stopped, opens its H2 file as the owner. Exit 0 when written, 1 when the log cannot be"
                        + " read, 2 for a bad command line."})
public final class ReportCommand implements Callable<Integer> {

    private static final Pattern RELATIVE = Pattern.compile("([1-9][0-9]{0,4})([hdw])");

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The daemon's tollgate.json; without it the embedded defaults apply, as for run.")
    private Path configFile;

    @Option(names = "--since", paramLabel = "WHEN", defaultValue = "7d",
            description = "The period's start: a time ago (7d, 36h, 2w), today, a date (2026-11-30) or an ISO time"
                    + " (2026-11-30T00:00:00Z); rounded down to midnight UTC. Default: ${DEFAULT-VALUE}, which with"
                    + " the default --until is the last 7 days and today so far; --since 7d --until today is the"
                    + " last 7 whole days.")
    private String since;

    @Option(names = "--until", paramLabel = "WHEN",
            description = "The period's end (exclusive), as --since (a date or today means that day's start);"
                    + " rounded up to midnight UTC. Default: now, so today is the last day.")
    private String until;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
            description = "text (the default), csv (one table, exact numbers) or html (one page with its charts,"
                    + " nothing fetched from elsewhere).")
    private String format;

    @Option(names = "--top", paramLabel = "N", defaultValue = "10",
            description = "Values in each top list, 1 to " + Report.MAX_TOP + ". Default: ${DEFAULT-VALUE}.")
    private int top;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write the report here (mode 0640, replaced whole) instead of to standard output.")
    private Path output;

    private final Clock clock;

    public ReportCommand() {
        this(Clock.systemUTC());
    }

    ReportCommand(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Integer call() throws Exception {
        ReportFormat form = ReportFormat.named(format);
        if (form == null) {
            throw usage("--format: \"" + format + "\" is not text, csv or html");
        }
        if (top < 1 || top > Report.MAX_TOP) {
            throw usage("--top: " + top + " is not from 1 to " + Report.MAX_TOP);
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant from = when("--since", since, now);
        Instant to = until == null ? now : when("--until", until, now);
        if (!from.isBefore(to)) {
            throw usage("--since (" + from + ") must be before --until (" + to + ")");
        }
        TollgateConfig config = ConfigLoader.loadOrDefaults(configFile);
        Report report;
        try {
            report = Report.gather(new AccessSummary(new LogDataSource(config)), from, to, top, now);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        } catch (SQLException e) {
            throw new SqlCommandException("reading the access log's summary failed: " + QueryErrors.oneLine(e), e);
        }
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            form.write(report, out);
            out.flush();
        } else {
            writeFile(form, report);
        }
        return 0;
    }

    /**
     * A time given as an amount ago ({@code 7d}), {@code today} (its midnight, UTC), a date (its midnight) or an ISO
     * instant.
     */
    private Instant when(String option, String value, Instant now) {
        if (value.equals("today")) {
            return now.truncatedTo(ChronoUnit.DAYS);
        }
        Matcher relative = RELATIVE.matcher(value);
        if (relative.matches()) {
            long n = Long.parseLong(relative.group(1));
            Duration unit = switch (relative.group(2)) {
                case "h" -> Duration.ofHours(1);
                case "d" -> Duration.ofDays(1);
                default -> Duration.ofDays(7);
            };
            return now.minus(unit.multipliedBy(n));
        }
        try {
            return value.contains("T") ? Instant.parse(value)
                    : LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            throw usage(option + ": \"" + value + "\" is not a time ago (7d, 36h, 2w), today, a date (2026-11-30) or"
                    + " an ISO time (2026-11-30T00:00:00Z)");
        }
    }

    /**
     * Writes the report into a new file beside {@link #output}, readable by the owner and the group only (the
     * report names hosts, users and clients), then moves it over the old one: a reader never sees half a report.
     */
    private void writeFile(ReportFormat form, Report report) throws IOException {
        Path target = output.toAbsolutePath();
        Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
        try {
            try (Writer out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(temp),
                    StandardCharsets.UTF_8))) {
                form.write(report, out);
            }
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** A connection per call, as {@code tollgate verify} opens its one: {@link AccessSummary} closes each. */
    private static final class LogDataSource implements DataSource {

        private final TollgateConfig config;

        LogDataSource(TollgateConfig config) {
            this.config = config;
        }

        @Override
        public Connection getConnection() throws SQLException {
            return AuditorConnection.openOrFile(config);
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            throw new SQLFeatureNotSupportedException("the report reads as the auditor or the owner, not as a user");
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {
        }

        @Override
        public void setLoginTimeout(int seconds) {
        }

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException("no java.util.logging");
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
